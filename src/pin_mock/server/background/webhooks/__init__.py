"""Webhook deliveries: the one dispatcher over the queue and slot ports, and one attempt."""
