"""banks admin."""
