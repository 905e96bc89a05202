"""Webhook secrets and Standard Webhooks signatures.

A secret is ``whsec_`` + base64 of 24 random bytes, shown once when a webhook
is registered. Every attempt is signed afresh with the ``standardwebhooks``
package: the event id (``webhook-id``) stays the same on every retry, so a
receiver can deduplicate, while the timestamp and signature are new per
attempt, so a receiver's replay window accepts a late retry.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook


def new_secret() -> str:
    """A signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def signed_headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one signed attempt to POST ``body`` (a JSON event)."""
    signature = Webhook(secret).sign(
        event_id, datetime.fromtimestamp(timestamp, UTC), body.decode()
    )
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
