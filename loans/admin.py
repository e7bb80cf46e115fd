"""loans admin."""
