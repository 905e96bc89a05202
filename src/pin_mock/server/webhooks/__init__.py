"""Webhooks: signed deliveries of domain events, with retries and a delivery log.

Where each part lives:

- ``dispatcher``  the worker: one task per message, retries, the in-flight
                  limit, start-up and shutdown (``install``, ``dispatcher_of``)
- ``signing``     secrets and Standard Webhooks signatures
- ``targets``     which URLs may be registered and delivered to (SSRF policy)
- ``deliveries``  a message, an attempt's outcome, and the delivery log

Import names from those modules. The re-exports below keep the imports of
``services.py``, ``handlers/webhooks.py`` and older tests working; they are
for compatibility only.
"""

from __future__ import annotations

from pin_mock.server.webhooks.dispatcher import (
    MAX_IN_FLIGHT,
    WebhookDispatcher,
    dispatcher_of,
    install,
)
from pin_mock.server.webhooks.signing import new_secret
from pin_mock.server.webhooks.targets import TargetRefused, check_url

__all__ = [
    "MAX_IN_FLIGHT",
    "TargetRefused",
    "WebhookDispatcher",
    "check_url",
    "dispatcher_of",
    "install",
    "new_secret",
]
