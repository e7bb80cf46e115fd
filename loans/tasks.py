"""loans tasks."""
