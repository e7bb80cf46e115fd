"""banks rules."""
