"""accounts rules."""
