"""webhooks handlers."""
