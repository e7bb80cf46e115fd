"""accounts selectors."""
