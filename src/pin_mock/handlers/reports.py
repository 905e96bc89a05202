"""reports handlers."""
