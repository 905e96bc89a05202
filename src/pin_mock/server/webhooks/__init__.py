"""Webhooks: signed deliveries of domain events, with retries and a delivery log.

Where each part lives:

- ``dispatcher``  the worker: one task per message, retries, attempts,
                  start-up and bounded shutdown (``install``, ``dispatcher_of``)
- ``signing``     secrets and Standard Webhooks signatures
- ``targets``     which URLs may be registered, and the target policy at delivery
- ``lanes``       fair shares: slots per client and webhook, the cap on pending messages
- ``deliveries``  a message, an attempt's outcome, and the delivery log

Import names from those modules; this package re-exports nothing.
"""
