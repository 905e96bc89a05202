"""Webhooks: what is delivered, to where, signed how.

Where each part lives:

- ``deliveries``  a delivery (``Message``), an attempt's ``Outcome``, the log entry
                  and the log line of each attempt, what a delivery given up says
- ``signing``     secrets and Standard Webhooks signatures
- ``targets``     which URLs may be registered, and the target policy at delivery

Events become deliveries in ``domain/events.py``; the one dispatcher that
delivers them is ``background/webhooks/``; webhooks, their logs and pending
deliveries are kept by the engine's ``WebhookStore`` (``state/ports.py``).
Import names from those modules; this package re-exports nothing.
"""
