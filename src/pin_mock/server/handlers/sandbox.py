"""The sandbox's own operations (tag ``Sandbox``, paths under ``/_sandbox``).

They are not PIN's: ``openapi/sandbox.overlay.yaml`` documents them, and the
sandbox routes and validates them from that view of the spec like any ``/v1``
operation (token and scopes checked by the operation layer), but they are not
rate-limited and take no ``Prefer`` scenarios (those are ``/v1`` only).
"""

from __future__ import annotations

from typing import Any

from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.event_samples import check_given, sample_data
from pin_mock.server.domain.events import Events
from pin_mock.server.domain.reports.service import Reports
from pin_mock.server.domain.store import Store


async def reset_sandbox(store: Store, caller: Caller) -> dict[str, Any]:
    """``POST /_sandbox/reset``: drop what the caller created, in one step (both engines).

    Its pending webhook deliveries and their scheduled retries are cancelled too
    (``Store.reset``); a report job under way finds nothing left to update.
    """
    # The operation layer has checked the token and its scopes: every write scope of
    # what a reset removes (the overlay's ``security``), so a least-privilege token
    # cannot destroy what it could not have written.
    removed = await store.reset(caller.client_id)
    return {"client_id": caller.client_id, "reset": True, "removed": removed}


async def trigger_event(
    events: Events, store: Store, reports: Reports, caller: Caller, body: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """``POST /_sandbox/events``: an event of a documented type, on demand.

    Its data is the caller's (validated against the type's documented schema by the
    operation layer) or realistic (``domain/event_samples.py``); it goes through the
    normal path: one signed delivery per subscribed webhook, the target policy applied
    at each attempt, logged like any other.
    """
    event_type = body["type"]
    given = body.get("data")
    if given is not None:
        data = check_given(event_type, given)
    else:
        data = await sample_data(event_type, caller.client_id, store, reports)
    event, webhook_ids = await events.announce(caller.client_id, event_type, data)
    return {**event, "webhook_ids": webhook_ids}, 202


async def resend_event(
    events: Events, caller: Caller, event_id: str, body: dict[str, Any] | None = None
) -> tuple[dict[str, Any], int]:
    """``POST /_sandbox/events/{event_id}/resend``: the same event again (same id, body)."""
    webhook_id = (body or {}).get("webhook_id")
    event, webhook_ids = await events.resend(caller.client_id, event_id, webhook_id)
    return {**event, "webhook_ids": webhook_ids}, 202
