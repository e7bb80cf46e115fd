"""reports selectors."""
