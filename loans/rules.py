"""loans rules."""
