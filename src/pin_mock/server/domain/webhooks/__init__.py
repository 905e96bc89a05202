"""Webhooks: signed deliveries of domain events, with retries and a delivery log.

Where each part lives:

- ``dispatcher``  the in-memory worker: one task per message, retries, bounded
                  shutdown; ``install`` picks it or ``shared`` by the state engine
- ``shared``      the Redis worker: messages on a shared queue, once per event
- ``attempts``    one attempt: the target policy, signing, one POST, its outcome
- ``storage``     webhooks, delivery logs and pending deliveries (memory or Redis)
- ``signing``     secrets and Standard Webhooks signatures
- ``targets``     which URLs may be registered, and the target policy at delivery
- ``lanes``       fair shares: slots per client and webhook, the cap on pending messages
- ``deliveries``  a message, an attempt's outcome, and the delivery log

Import names from those modules; this package re-exports nothing.
"""
