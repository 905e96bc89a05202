"""The sandbox's own operations (tag ``Sandbox``, paths under ``/_sandbox``).

They are not PIN's: ``openapi/sandbox.overlay.yaml`` documents them, and the
sandbox routes and validates them from that view of the spec like any ``/v1``
operation (token and scopes checked by the operation layer), but they are not
rate-limited and take no ``Prefer`` scenarios (those are ``/v1`` only).
"""

from __future__ import annotations

from typing import Any

from pin_mock.server.domain.callers import Caller
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
