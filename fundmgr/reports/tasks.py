"""reports tasks."""
