"""notifications selectors."""
