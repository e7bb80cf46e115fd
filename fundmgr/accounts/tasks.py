"""accounts tasks."""
