"""The body deadline, answered ``408`` in the envelope; requests abandoned at shutdown, logged.

uvicorn has no body read timeout: a client that sends its headers and then
dribbles (or stops sending) its body holds a request, its memory and, at
SIGTERM, the server's exit. This layer, right inside the rate-limit layer
(so the 408 carries ``X-Request-Id`` and the rate-limit headers), gives the whole body ``timeout``
seconds from the moment the request reaches the app. When the time is up and
no answer has started it answers ``408 REQUEST_TIMEOUT`` with
``Connection: close`` (RFC 9110 section 15.5.9), then tells the app the client
has gone, and drops whatever the app still tries to send. A deadline on the
whole body, not on the gap between reads, is what stops a client that sends
one byte every 29 seconds.

The connection protocol (``transport/guarded_protocol.py``) closes the socket a second after
this deadline if the body is still incomplete: that catches bodies no layer
reads. Requests still running when a graceful shutdown gives up are cancelled
by uvicorn; ``InFlight.log_abandoned`` (called by ``transport/uvicorn_config.py`` at that
moment) logs each one, with what it was. (Logging from the cancelled request
itself is too late: uvicorn re-raises SIGTERM and the process ends before it
runs again.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.errors import RequestTimeout, render_raw

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Exchange:
    """One request in flight: what it is, has its body ended, has an answer begun."""

    method: str
    path: str
    started: float
    body_done: bool = False
    answered: bool = False
    timed_out: bool = False


class InFlight:
    """The requests in flight in one app, so a shutdown can say which it abandons.

    One per app (``create_app`` makes it), not one per process: tests serve
    several apps in one process, and each ``pin-mock serve`` worker builds its own.
    """

    def __init__(self) -> None:
        self._exchanges: set[_Exchange] = set()

    def __len__(self) -> int:
        return len(self._exchanges)

    def add(self, exchange: _Exchange) -> None:
        self._exchanges.add(exchange)

    def discard(self, exchange: _Exchange) -> None:
        self._exchanges.discard(exchange)

    def log_abandoned(self) -> int:
        """Log each request still in flight as abandoned; how many there were.

        ``transport/uvicorn_config.py`` calls this when the server's lifespan shutdown begins:
        uvicorn has then waited ``graceful_shutdown_timeout`` and cancelled what
        was left, and the cancelled requests have not yet left this set.
        """
        now = time.monotonic()
        abandoned = sorted(self._exchanges, key=lambda e: e.started)
        for exchange in abandoned:
            log.warning(
                "Request abandoned at shutdown: %s %s after %.1f s",
                exchange.method,
                exchange.path,
                now - exchange.started,
                extra={
                    "method": exchange.method,
                    "path": exchange.path,
                    "seconds": round(now - exchange.started, 3),
                    "body_complete": exchange.body_done,
                    "answered": exchange.answered,
                },
            )
        return len(abandoned)


class BodyDeadlineMiddleware:
    """Answer 408 when a request body is not complete within ``timeout`` seconds."""

    def __init__(
        self, app: ASGIApp, *, timeout: float = 30.0, in_flight: InFlight | None = None
    ) -> None:
        self.app = app
        self.timeout = timeout
        self.in_flight = InFlight() if in_flight is None else in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        exchange = _Exchange(scope["method"], scope["path"], time.monotonic())

        async def guarded_receive() -> Message:
            if exchange.timed_out:
                return {"type": "http.disconnect"}
            if exchange.body_done:  # waiting for a disconnect is not reading a body
                return await receive()
            try:
                # A deadline on this task, not ``wait_for``'s task per read: a body that
                # is already there is read at no extra cost.
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                exchange.timed_out = True
                await self._time_out(scope, send, exchange)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                exchange.body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            if exchange.timed_out:
                return  # the 408 is the answer; the app's late one has nowhere to go
            if message["type"] == "http.response.start":
                exchange.answered = True
            await send(message)

        self.in_flight.add(exchange)
        try:
            await self.app(scope, guarded_receive, guarded_send)
        finally:
            self.in_flight.discard(exchange)

    async def _time_out(self, scope: Scope, send: Send, exchange: _Exchange) -> None:
        log.info(
            "Request body not complete within %g s: %s %s",
            self.timeout,
            scope["method"],
            scope["path"],
            extra={"method": scope["method"], "path": scope["path"], "timeout": self.timeout},
        )
        if exchange.answered:
            return  # an answer has begun: all that is left is to stop reading
        exchange.answered = True
        message = f"The request body did not arrive within {self.timeout:g} s."
        error = RequestTimeout(message, {"timeout_seconds": self.timeout})
        status, raw, body = render_raw(error, scope["path"])  # RFC 6749 shape on the token path
        raw.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
