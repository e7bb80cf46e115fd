"""banks selectors."""
