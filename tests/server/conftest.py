"""Factories for the sandbox app, in-process clients and tokens (``sandboxes.py``)."""

from sandboxes import sandbox, sandbox_factory  # noqa: F401 - fixtures
