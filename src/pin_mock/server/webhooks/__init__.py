"""Webhooks: signed deliveries of domain events, with retries and a delivery log.

Where each part lives:

- ``dispatcher``  the worker: one task per message, retries, the in-flight
                  limit, start-up and shutdown (``install``, ``dispatcher_of``)
- ``signing``     secrets and Standard Webhooks signatures
- ``targets``     which URLs may be registered and delivered to (SSRF policy)
- ``deliveries``  a message, an attempt's outcome, and the delivery log

Import names from those modules; this package re-exports nothing.
"""
