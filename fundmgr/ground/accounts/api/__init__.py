from .idempotency import IdempotentMixin
from .serializers import HistoryEntrySerializer, TransitionRequestSerializer

__all__ = ["HistoryEntrySerializer", "IdempotentMixin", "TransitionRequestSerializer"]
