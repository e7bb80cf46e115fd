"""enterprises rules."""
