"""The sandbox's own operations (tag ``Sandbox``, paths under ``/_sandbox``).

They are not PIN's: ``openapi/sandbox.overlay.yaml`` documents them, and the
sandbox routes and validates them from that view of the spec like any ``/v1``
operation (token and scopes checked by the operation layer), and count against
the caller's rate-limit budget (the clock's on a budget of its own, so a spent
budget never locks a client out of the advance that refills it); they take no
``Prefer`` scenarios (``/v1`` only).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from starlette.responses import StreamingResponse

from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.chaos import Chaos, parse_setting
from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.domain.event_samples import check_given, sample_data
from pin_mock.server.domain.events import Events
from pin_mock.server.domain.journal.service import Filter, Journal
from pin_mock.server.domain.rate_limiter import RateLimiter
from pin_mock.server.domain.reports.service import Reports
from pin_mock.server.domain.store import Store
from pin_mock.server.encoding import encode
from pin_mock.server.errors import InvalidParameter, InvalidRequest
from pin_mock.server.settings import Settings

#: Seconds of silence after which the live stream sends a comment.
HEARTBEAT = 15.0


async def reset_sandbox(
    store: Store, journal: Journal, caller: Caller, clocks: ClientClocks
) -> dict[str, Any]:
    """``POST /_sandbox/reset``: drop what the caller created, in one step (both engines).

    Its pending webhook deliveries and their scheduled retries are cancelled too
    (``Store.reset``); a report job under way finds nothing left to update.
    """
    # The operation layer has checked the token and its scopes: every write scope of
    # what a reset removes (the overlay's ``security``), so a least-privilege token
    # cannot destroy what it could not have written.
    removed = await store.reset(caller.client_id)
    # A fresh start for a test: its journal begins with this reset (README).
    await journal.clear(caller.client_id)
    await clocks.reset(caller.client_id)  # its clock went with the rest: the real one again
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


# -- the request journal (issue 20; domain/journal/) ----------------------------------


async def list_requests(
    journal: Journal,
    caller: Caller,
    operation: str | None = None,
    status: str | None = None,
    since: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """``GET /_sandbox/requests``: the caller's last exchanges, newest first, filtered."""
    return await journal.page(caller.client_id or "", _filter(operation, status, since), limit)


async def stream_requests(
    journal: Journal,
    caller: Caller,
    operation: str | None = None,
    status: str | None = None,
    since: str | None = None,
    after: str | None = None,
    duration: int = 600,
) -> StreamingResponse:
    """``GET /_sandbox/requests/stream``: the caller's exchanges as they happen (SSE).

    Each event is one entry (``id:`` its id, so a reader reconnects with ``after``);
    a comment every ``HEARTBEAT`` seconds keeps proxies from closing a quiet stream;
    the stream ends after ``duration`` seconds (readers reconnect), so no connection
    is held for ever.
    """
    wanted = _filter(operation, status, since)
    entries = journal.follow(caller.client_id or "", wanted, after, duration, HEARTBEAT)

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        async for entry in entries:
            if entry is None:
                yield b": keep-alive\n\n"
            else:
                yield b"id: %s\nevent: exchange\ndata: %s\n\n" % (
                    entry["id"].encode(),
                    encode(entry),
                )

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _filter(operation: str | None, status: str | None, since: str | None) -> Filter:
    moment = None
    if since is not None:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidParameter(
                "since", since, "Invalid value for parameter 'since': not a real date and time."
            ) from None
    return Filter(operation, status, moment)


# -- chaos (issue 20; domain/chaos.py) ------------------------------------------------


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
