"""notifications tasks."""
