"""loans services."""
