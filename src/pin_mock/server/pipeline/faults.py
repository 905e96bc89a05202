"""Transport faults: answers that break the way networks and servers break.

``inject`` performs one of ``domain.chaos.FAULTS`` for one request:

- ``connection_reset``: the connection is reset (TCP RST); no answer, and the
  operation does not run;
- ``empty_response``: the connection is closed (FIN) with no answer; the
  operation does not run;
- ``malformed_json``: the operation runs; its status and headers, and a body
  that is not JSON (the first half of the real one, then ``<!-- ... -->``),
  with a matching ``Content-Length``;
- ``truncated_json``: the operation runs; its status, headers and
  ``Content-Length``, half of its body, then the connection closes;
- ``slow_body``: the operation runs; its whole answer, the body dribbled in
  up to ``DRIBBLE_CHUNKS`` pieces spread over ``slow_body_ms``;
- ``headers_then_silence``: the operation runs; its status and headers, then
  nothing until the client gives up or ``silence`` seconds pass (at most the
  server's own send timeout), and the connection closes;
- ``random_data_then_close``: ``GARBAGE_BYTES`` random bytes, which are no HTTP
  answer, then the connection closes; the operation does not run.

Those that end a connection need the connection itself, which ASGI does not
give an app: the sandbox's connection protocol (``transport/``) puts a
``Connection`` under ``scope["extensions"][CONNECTION]``. Served some other
way (in-process test clients), there is none, and the fault raises
``ConnectionFault`` where the connection would end: the client sees an error
instead of an answer, as it would over a socket.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.errors import ApiError, OAuthError, render_raw

#: The ASGI scope extension under which the connection protocol offers the connection.
CONNECTION = "pin_mock.connection"
#: At most this many pieces of a dribbled body.
DRIBBLE_CHUNKS = 10
#: How many random bytes a ``random_data_then_close`` sends.
GARBAGE_BYTES = 256
#: What follows the first half of the real body in a malformed one.
MALFORMED_TAIL = b"<!-- pin-mock: malformed_json -->"


class Connection(Protocol):
    """The request's connection, as the connection protocol lets an app end it."""

    def reset(self) -> None:
        """Reset it now (RST): nothing written is delivered, nothing more is sent."""
        ...

    def close(self, garbage: bytes = b"") -> None:
        """Close it once what was written, then ``garbage`` (raw bytes), is sent (FIN)."""
        ...


class ConnectionFault(Exception):
    """A fault that ends the connection, served without one (in-process clients).

    The error handlers and the server-error layer let it through: it is no bug,
    and the client must get no answer at all (an ASGI test client raises it).
    """

    def __init__(self, fault: str) -> None:
        super().__init__(f"pin-mock injected the fault {fault}: the connection ends here")
        self.fault = fault


def _end(scope: Scope, fault: str, *, reset: bool, garbage: bytes = b"") -> None:
    connection: Connection | None = scope.get("extensions", {}).get(CONNECTION)
    if connection is None:
        raise ConnectionFault(fault)
    if reset:
        connection.reset()
    else:
        connection.close(garbage)


async def inject(
    fault: str,
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    slow_body_ms: int,
    silence: float,
) -> None:
    """Serve the request with ``fault`` (one of ``domain.chaos.FAULTS``)."""
    if fault in ("connection_reset", "empty_response", "random_data_then_close"):
        garbage = b""
        if fault != "connection_reset":
            # A socket closed with bytes of the request still unread sends RST, not FIN
            # (and may drop what was written): the client would see a reset instead.
            await _drain(receive)
            garbage = _garbage() if fault == "random_data_then_close" else b""
        _end(scope, fault, reset=fault == "connection_reset", garbage=garbage)
        await asyncio.sleep(0)  # let the protocol see the connection lost before we return
        return
    start, body = await _answer(app, scope, receive)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    if fault == "malformed_json":
        body = body[: len(body) // 2] + MALFORMED_TAIL
    length = [(b"content-length", str(len(body)).encode())]
    if fault == "malformed_json":
        await send({**start, "headers": headers + length})
        await send({"type": "http.response.body", "body": body})
    elif fault == "truncated_json":
        if not body:  # nothing to cut (204): the connection ends before any answer
            _end(scope, fault, reset=False)
            return
        await send({**start, "headers": headers + length})
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        _end(scope, fault, reset=False)
    elif fault == "slow_body":
        await send({**start, "headers": headers + length})
        await _dribble(body, slow_body_ms / 1000, send)
    elif fault == "headers_then_silence":
        await send({**start, "headers": headers + length})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await _silence(receive, silence)
        _end(scope, fault, reset=False)
    else:  # pragma: no cover - the fault names are validated before they get here
        raise ValueError(fault)
    await asyncio.sleep(0)


async def _drain(receive: Receive) -> None:
    """Read the request body to its end (the body limits bound it), unused."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _garbage() -> bytes:
    """``GARBAGE_BYTES`` random bytes that cannot be read as the start of an HTTP answer."""
    data = os.urandom(GARBAGE_BYTES)
    return data if not data.startswith(b"H") else b"\x00" + data[1:]


async def _answer(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """The operation's answer: its start message and its whole body."""
    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, capture)
    except (ApiError, OAuthError) as error:  # what the exception layer would have answered
        status, headers, body = render_raw(error, scope["path"])
        return {"type": "http.response.start", "status": status, "headers": headers}, body
    return start, b"".join(chunks)


async def _dribble(body: bytes, seconds: float, send: Send) -> None:
    """``body`` in up to ``DRIBBLE_CHUNKS`` pieces, one every ``seconds / pieces``."""
    pieces = max(1, min(DRIBBLE_CHUNKS, len(body)))
    size = -(-len(body) // pieces)  # ceiling division: the last piece is the shortest
    interval = seconds / pieces
    for index in range(pieces):
        await asyncio.sleep(interval)
        piece = body[index * size : (index + 1) * size]
        await send({"type": "http.response.body", "body": piece, "more_body": index < pieces - 1})


async def _silence(receive: Receive, seconds: float) -> None:
    """Wait ``seconds``, or less if the client leaves first."""

    async def gone() -> None:
        # The request was read already: the next message that matters is the disconnect.
        for _ in range(100):
            message: Any = await receive()
            if message["type"] == "http.disconnect":
                return
        await asyncio.sleep(seconds)  # a server that never says: just wait

    try:
        async with asyncio.timeout(seconds):  # (not wait_for: it can swallow a cancel)
            await gone()
    except TimeoutError:
        pass
