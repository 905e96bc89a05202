"""Mock-only sandbox control, not part of PIN's contract (so not in pin.yaml).

``POST /_sandbox/reset`` restores the caller's sandbox to the seeded state:
the patients, clinical data, reports, webhooks and delivery logs it created
are dropped, and its pending webhook deliveries and their scheduled retries
are cancelled (a report job under way finds nothing left to update).
It needs a bearer token of the caller, any scope; the rate-limit counters are
not reset. The answer is 200 with what was removed::

    {"client_id": "sandbox-standard", "reset": true,
     "removed": {"patients": 1, "clinical_data": 3, "reports": 0, "webhooks": 1}}
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

import pin_mock.server.errors as errors
from pin_mock.server.domain.store import Store
from pin_mock.server.encoding import encode
from pin_mock.server.pipeline.authentication import caller_of

RESET_PATH = "/_sandbox/reset"


class SandboxRoutesMiddleware:
    """Serves ``POST /_sandbox/reset``; inside the error handlers, before routing."""

    def __init__(self, app: ASGIApp, *, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != RESET_PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            raise errors.MethodNotAllowed(
                f"Method {scope['method']} is not allowed on {RESET_PATH}.",
                {"method": scope["method"], "allowed": ["POST"]},
                headers={"Allow": "POST"},
            )
        # Any scope will do: every client may reset its own sandbox.
        client_id = caller_of(scope).require([])["sub"]
        while (await receive()).get("more_body"):
            pass  # the body, if any, is ignored
        body = encode(await reset(self.store, client_id))
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def reset(store: Store, client_id: str) -> dict[str, Any]:
    """Drop ``client_id``'s sandbox in one step (both engines); say what it held."""
    removed = await store.reset(client_id)
    return {"client_id": client_id, "reset": True, "removed": removed}
