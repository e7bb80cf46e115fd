from .serializers import HistoryEntrySerializer, TransitionRequestSerializer

__all__ = ["HistoryEntrySerializer", "TransitionRequestSerializer"]
