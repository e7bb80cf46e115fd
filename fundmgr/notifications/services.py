"""notifications services."""
