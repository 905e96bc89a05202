"""The request path: every ASGI layer a request meets, outer to inner (``app.py`` lists them)."""
