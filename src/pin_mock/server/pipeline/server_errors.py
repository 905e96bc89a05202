"""Server errors: whatever escapes every other layer still answers PIN's envelope.

Starlette's ``ServerErrorMiddleware`` (Connexion's own last layer) answers a
plain-text ``Internal Server Error``; this one answers ``500 INTERNAL_ERROR`` in
the envelope (or 503 for a lost state engine) and logs the traceback for the
operator. It sits just inside the body-deadline layer, itself inside the
rate-limit layer, so its answer carries ``X-Request-Id`` and the rate-limit
headers like every other. The exception
layer inside it handles everything the app raises on purpose, so this only
ever sees bugs (in the error handlers themselves, for instance).
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.errors import InternalError, render_raw
from pin_mock.server.pipeline.faults import ConnectionFault
from pin_mock.server.state.outages import unavailable

logger = logging.getLogger("pin_mock.errors")


class ServerErrorMiddleware:
    """Turn an escaped exception into a 500 envelope, if no answer was started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except ConnectionFault:
            raise  # a fault asked for, served without a connection to end: not a bug
        except Exception as exc:
            problem = unavailable(exc)  # Redis lost (outside the error handlers): 503
            if problem is None:
                logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                return  # half an answer is on the wire; the server closes the connection
            error = problem or InternalError("An internal error occurred.")
            status, headers, body = render_raw(error, scope["path"])
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
