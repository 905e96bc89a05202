"""The sandbox's own operations (tag ``Sandbox``, paths under ``/_sandbox``).

They are not PIN's: ``openapi/sandbox.overlay.yaml`` documents them, and the
sandbox routes and validates them from that view of the spec like any ``/v1``
operation (token and scopes checked by the operation layer), but they are not
rate-limited and take no ``Prefer`` scenarios (those are ``/v1`` only).
"""

from __future__ import annotations

from typing import Any

from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.chaos import Chaos, parse_setting
from pin_mock.server.domain.store import Store
from pin_mock.server.settings import Settings


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


async def get_chaos(chaos: Chaos, caller: Caller) -> dict[str, Any]:
    """``GET /_sandbox/chaos``: the caller's chaos setting, and how many requests it covered."""
    return await chaos.show(caller.client_id or "")


async def set_chaos(
    body: dict[str, Any], chaos: Chaos, caller: Caller, settings: Settings
) -> dict[str, Any]:
    """``PUT /_sandbox/chaos``: replace the caller's chaos setting (its count starts at 0).

    Answers once every worker applies it (``ChaosSettings.replace``).
    """
    setting = parse_setting(
        body, operations=chaos.operations, max_delay_ms=settings.max_prefer_delay_ms
    )
    return await chaos.put(caller.client_id or "", setting)


async def delete_chaos(chaos: Chaos, caller: Caller) -> dict[str, Any]:
    """``DELETE /_sandbox/chaos``: no more chaos for the caller (nothing else changes)."""
    return await chaos.stop(caller.client_id or "")
