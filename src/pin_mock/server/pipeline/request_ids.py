"""Give every response an ``X-Request-Id``: the client's, if sane, or a new one.

The id is also left in the scope's state (``REQUEST_ID_KEY``) for the layers that
speak of a request with no answer to read it from: an injected fault that ends
the connection (its log line, its journal entry).
"""

from __future__ import annotations

import itertools
import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SANE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
#: Where the request's id is left in ``scope["state"]``.
REQUEST_ID_KEY = "pin_request_id"


class RequestIdMiddleware:
    """Echo a well-formed ``X-Request-Id`` or generate one, on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # A random per-process prefix and a counter: unique, and far cheaper than uuid4.
        self._prefix = f"req_{os.urandom(6).hex()}"
        self._counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and _SANE.match(value):
                request_id = value
                break
        if request_id is None:
            request_id = f"{self._prefix}{next(self._counter):08x}".encode()
        header = (b"x-request-id", request_id)
        scope.setdefault("state", {})[REQUEST_ID_KEY] = request_id.decode("latin-1")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
