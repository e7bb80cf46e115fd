"""enterprises admin."""
