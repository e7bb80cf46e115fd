"""notifications admin."""
