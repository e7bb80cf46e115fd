from .idempotency import IdempotentMixin
from .serializers import HistoryEntrySerializer, TransitionRequestSerializer
from .transitions import TransitionsMixin, transitions_schema

__all__ = [
    "HistoryEntrySerializer",
    "IdempotentMixin",
    "TransitionRequestSerializer",
    "TransitionsMixin",
    "transitions_schema",
]
