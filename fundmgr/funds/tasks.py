"""funds tasks."""
