"""enterprises tasks."""
