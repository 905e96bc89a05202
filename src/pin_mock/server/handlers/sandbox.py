"""The sandbox's own operations (tag ``Sandbox``, paths under ``/_sandbox``).

They are not PIN's: ``openapi/sandbox.overlay.yaml`` documents them, and the
sandbox routes and validates them from that view of the spec like any ``/v1``
operation (token and scopes checked by the operation layer), but they are not
rate-limited and take no ``Prefer`` scenarios (those are ``/v1`` only).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from starlette.responses import StreamingResponse

from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.journal.service import Filter, Journal
from pin_mock.server.domain.store import Store
from pin_mock.server.encoding import encode
from pin_mock.server.errors import InvalidParameter

#: Seconds of silence after which the live stream sends a comment.
HEARTBEAT = 15.0


async def reset_sandbox(store: Store, journal: Journal, caller: Caller) -> dict[str, Any]:
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
    return {"client_id": caller.client_id, "reset": True, "removed": removed}


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
