"""banks tasks."""
