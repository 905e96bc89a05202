"""The sandbox's own operations (tag ``Sandbox``, paths under ``/_sandbox``).

They are not PIN's: ``openapi/sandbox.overlay.yaml`` documents them, and the
sandbox routes and validates them from that view of the spec like any ``/v1``
operation (token and scopes checked by the operation layer); they take no
``Prefer`` scenarios (those are ``/v1`` only), and only the clock's are
rate-limited (on a budget of their own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.domain.rate_limiter import RateLimiter
from pin_mock.server.domain.store import Store
from pin_mock.server.errors import InvalidRequest


async def reset_sandbox(store: Store, caller: Caller, clocks: ClientClocks) -> dict[str, Any]:
    """``POST /_sandbox/reset``: drop what the caller created, in one step (both engines).

    Its pending webhook deliveries and their scheduled retries are cancelled too
    (``Store.reset``); a report job under way finds nothing left to update.
    """
    # The operation layer has checked the token and its scopes: every write scope of
    # what a reset removes (the overlay's ``security``), so a least-privilege token
    # cannot destroy what it could not have written.
    removed = await store.reset(caller.client_id)
    await clocks.reset(caller.client_id)  # its clock went with the rest: the real one again
    return {"client_id": caller.client_id, "reset": True, "removed": removed}


# -- the caller's own clock (/_sandbox/clock) ------------------------------------
#
# Like Stripe's test clocks, per client: GET reads it, freeze stops it (where it
# reads, or at a given time), advance moves it ahead at once (no waiting: what fell
# due meanwhile happens now, in order), resume lets it run again from where it
# stopped. The authentication layer has entered the caller's clock for this request
# and checked the token on it (domain/clocks.py). These count on a budget of their
# own (app.py), so a spent /v1 budget never locks a client out of the advance that
# refills it.


async def get_sandbox_clock(caller: Caller, clocks: ClientClocks) -> dict[str, Any]:
    """GET /_sandbox/clock"""
    return clocks.view(caller.client_id, clocks.entered())


async def freeze_sandbox_clock(
    caller: Caller, clocks: ClientClocks, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST /_sandbox/clock/freeze"""
    at = (body or {}).get("at")
    state = await clocks.freeze(caller.client_id, None if at is None else _seconds(at))
    return clocks.view(caller.client_id, state)


async def advance_sandbox_clock(
    caller: Caller, clocks: ClientClocks, limiter: RateLimiter, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /_sandbox/clock/advance"""
    seconds = float(body["seconds"])
    state = await clocks.advance(caller.client_id, seconds)
    # The rate-limit window runs on the real clock: an advance past its end starts a
    # new one, as waiting that long would have.
    await limiter.forget(f"client:{caller.client_id}", caller.tier or "standard", seconds)
    return clocks.view(caller.client_id, state)


async def resume_sandbox_clock(caller: Caller, clocks: ClientClocks) -> dict[str, Any]:
    """POST /_sandbox/clock/resume"""
    return clocks.view(caller.client_id, await clocks.resume(caller.client_id))


def _seconds(stamp: str) -> float:
    # The operation layer has checked the date-time's form already.
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (ValueError, OverflowError):
        raise InvalidRequest("at must be an RFC 3339 date-time.", {"field": "at"}) from None
