"""banks services."""
