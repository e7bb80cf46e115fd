"""funds rules."""
