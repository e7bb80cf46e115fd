"""notifications rules."""
