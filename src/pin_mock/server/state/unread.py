"""A create that announces an event without reading the client's webhooks first.

Reading who subscribes to an event is a Redis round trip of its own, and most
clients subscribe nothing to most events. So a create first goes alone with
``EventDeliveries(client_id, [], cap, unread=event_type)``: the engine stores it
only if, in the same atomic step, no webhook of the client subscribes to
``event_type``; else it writes nothing and raises ``Subscribed``, and the
caller (``domain/events.py``) reads the webhooks, stages the deliveries and
writes again with them. Either way a create and its deliveries are stored
together or not at all, and a webhook registered before the create's atomic
step is never missed.
"""

from __future__ import annotations


class Subscribed(Exception):
    """Nothing was written: a webhook of the client subscribes to the create's event."""
