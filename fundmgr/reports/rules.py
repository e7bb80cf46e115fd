"""reports rules."""
