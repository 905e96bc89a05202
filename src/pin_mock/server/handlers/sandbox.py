"""The sandbox's own operations (tag ``Sandbox``, paths under ``/_sandbox``).

They are not PIN's: ``openapi/sandbox.overlay.yaml`` documents them, and the
sandbox routes and validates them from that view of the spec like any ``/v1``
operation (token and scopes checked by the operation layer), but they are not
rate-limited and take no ``Prefer`` scenarios (those are ``/v1`` only).
"""

from __future__ import annotations

from typing import Any

from pin_mock.server.callers import Caller
from pin_mock.server.services import Services


async def reset_sandbox(services: Services, caller: Caller) -> dict[str, Any]:
    """``POST /_sandbox/reset``: drop what the caller created, in one step (both engines)."""
    # The operation layer has checked the token (``security: [{oauth2: []}]``: any scope).
    removed = await services.store.reset(caller.client_id)
    return {"client_id": caller.client_id, "reset": True, "removed": removed}
