"""reports services."""
