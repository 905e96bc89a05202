"""Mock-only sandbox control, not part of PIN's contract (so not in pin.yaml).

``POST /_sandbox/reset`` restores the caller's sandbox to the seeded state:
the patients, clinical data, reports, webhooks and delivery logs it created
are dropped (pending retries and report jobs find nothing left to update).
It needs a bearer token of the caller holding every write scope of the data it
removes: the scopes of every ``/v1`` operation that writes (``write_scopes``;
with the bundled spec ``clinical_data:write patients:write reports:write
webhooks:write``), else 403 naming them. A least-privilege token (say
``analytics:read``) cannot destroy what it could not have written or even
read. The rate-limit counters are not reset. The answer is 200 with what was
removed::

    {"client_id": "sandbox-standard", "reset": true,
     "removed": {"patients": 1, "clinical_data": 3, "reports": 0, "webhooks": 1}}
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

import pin_mock.server.errors as errors
from pin_mock.server.callers import caller_of
from pin_mock.server.encoding import encode
from pin_mock.server.operations import scopes_of
from pin_mock.server.services import Services

RESET_PATH = "/_sandbox/reset"
#: Methods that change what a client holds.
WRITES = ("post", "put", "patch", "delete")


def write_scopes(spec: dict[str, Any], prefix: str = "/v1/") -> list[str]:
    """Every scope an operation that writes under ``prefix`` requires, sorted."""
    found: set[str] = set()
    for template, path_item in spec.get("paths", {}).items():
        if template.startswith(prefix):
            for method in WRITES:
                if method in path_item:
                    found.update(scopes_of(path_item[method], spec) or [])
    return sorted(found)


class SandboxResetMiddleware:
    """Serves ``POST /_sandbox/reset``; inside the error handlers, before routing."""

    def __init__(self, app: ASGIApp, *, services: Services, scopes: list[str]) -> None:
        self.app = app
        self.services = services
        self.scopes = scopes

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
        # Every write scope: only a token that could have written it all may drop it.
        client_id = caller_of(scope).require(self.scopes)["sub"]
        while (await receive()).get("more_body"):
            pass  # the body, if any, is ignored
        body = encode(await reset(self.services, client_id))
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def reset(services: Services, client_id: str) -> dict[str, Any]:
    """Drop ``client_id``'s sandbox in one step (both engines); say what it held."""
    removed = await services.store.reset(client_id)
    return {"client_id": client_id, "reset": True, "removed": removed}
