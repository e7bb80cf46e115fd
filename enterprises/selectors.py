"""enterprises selectors."""
