"""analytics handlers."""
