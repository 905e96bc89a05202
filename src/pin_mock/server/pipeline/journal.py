"""The journal layer: each answer to a known client goes into its request journal.

Right after the probes (the outermost layers), so it sees what the client sees: the final status and
headers (``X-Request-Id``, ``X-RateLimit-*``), 429s and every error envelope,
and the time the whole stack took. It learns the rest from what inner layers
leave in the shared parts of the scope: the caller (``authentication.py``),
the operation (Connexion's routing), and a fault the chaos layer injected
(``scope["state"]["pin_fault"]``, its name).

Whose journal: the client of a valid bearer token (on any path, so a typo'd
path is journaled with the nearest operation), or for ``POST /oauth/token``
the client a token was issued to (a failed attempt names no trusted client and
is not journaled, so nobody can fill another client's journal). Requests with
no valid credentials, the docs and spec files, and the journal's own reads
are not journaled. It costs a request two small closures and, after the
answer has gone, one entry handed to the engine (``domain/journal/``); no
work at all when ``--journal-size 0``.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.domain.journal.entries import REDACTION_MARGIN, Exchange
from pin_mock.server.domain.journal.reasons import Documented, Reasons
from pin_mock.server.domain.journal.service import Journal
from pin_mock.server.pipeline.authentication import STATE_KEY
from pin_mock.server.pipeline.operations import ROUTING, Operation
from pin_mock.server.pipeline.request_ids import REQUEST_ID_KEY

log = logging.getLogger("pin_mock.journal")

#: Where the chaos layer names the fault it injected into this exchange.
FAULT_KEY = "pin_fault"
#: Paths never journaled: pages, spec files, and the journal's own reads.
NOT_JOURNALED = (
    "/docs",
    "/openapi.",
    "/reference",
    "/favicon",
    "/_sandbox/openapi.json",
    "/_sandbox/inspector",
    "/_sandbox/requests",
)
TOKEN_ENDPOINT = "/oauth/token"


def documented(spec: dict[str, Any], operations: Mapping[str, Operation]) -> list[Documented]:
    """The operations of a dereferenced ``spec`` as the journal's reasons quote them."""
    found = []
    for template, item in spec["paths"].items():
        for method, definition in item.items():
            op = (
                operations.get(definition.get("operationId", ""))
                if isinstance(definition, dict)
                else None
            )
            if op is None:
                continue
            parameters = {
                p.name: (p.location, p.schema, p.spec.get("description", ""))
                for p in [*op.query, *op.path]
            }
            body = op.body_types.get("application/json") or op.body_types.get(
                "application/x-www-form-urlencoded"
            )
            summary = definition.get("summary", "")
            found.append(
                Documented(op.operation_id, method.upper(), template, summary, parameters, body)
            )
    return found


class JournalMiddleware:
    """Hands each exchange of a known client to the journal, after the answer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        journal: Journal,
        reasons: Reasons,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.journal = journal
        self.reasons = reasons
        self.clock = clock
        self.window = journal.body_bytes + REDACTION_MARGIN

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NOT_JOURNALED):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        scope.setdefault("extensions", {})  # shared with Connexion's copies: the operation id
        seen = _Seen(self.window, time.perf_counter())
        started = self.clock()
        # A GET or HEAD has no body to keep: its receive is left as it is.
        kept = receive if scope["method"] in ("GET", "HEAD") else seen.receiving(receive)
        try:
            await self.app(scope, kept, seen.sending(send))
        finally:
            if seen.status or state.get(FAULT_KEY):
                try:
                    self._record(scope, state, seen, started)
                except Exception:  # the journal never fails a request
                    log.exception("journal: could not record %s %s", scope["method"], scope["path"])

    def _record(self, scope: Scope, state: dict[str, Any], seen: _Seen, started: float) -> None:
        status = seen.status
        request_body = (
            b"".join(seen.request) if len(seen.request) > 1 else (seen.request or [b""])[0]
        )
        client_id = self._client(scope, state, status, request_body)
        if client_id is None:
            return
        operation = (scope["extensions"].get(ROUTING) or {}).get("operation_id")
        response_body = (
            b"".join(seen.response) if len(seen.response) > 1 else (seen.response or [b""])[0]
        )
        headers = seen.headers
        # The id the answer carried (RequestId adds it last), or, with no answer (a fault
        # that ended the connection), the one the layer gave the request.
        request_id = state.get(REQUEST_ID_KEY)
        for name, value in reversed(headers):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
                break
        reason = None
        if 400 <= status < 500:
            reason = self.reasons.reason(
                status, operation, scope["method"], scope["path"], response_body
            )
        exchange = Exchange(
            started,
            ((seen.ended or time.perf_counter()) - seen.began) * 1000,
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            operation,
            status,
            request_id,
            scope["headers"],
            headers,
            request_body,
            seen.request_size,
            response_body,
            seen.response_size,
            state.get(FAULT_KEY),
            reason,
        )
        self.journal.record(client_id, exchange)

    def _client(self, scope: Scope, state: dict[str, Any], status: int, body: bytes) -> str | None:
        caller = state.get(STATE_KEY)
        if caller is not None and caller.client_id is not None:
            return caller.client_id
        if scope["path"] == TOKEN_ENDPOINT:
            return _token_client(scope, body) if status == 200 else None
        # Under /v1 and /_sandbox the token was verified already (and is not valid).
        # Elsewhere it is never verified, not even to journal the exchange: junk tokens
        # sent anywhere must cost nothing and leave nothing behind (test_sec_auth_cache).
        return None


class _Seen:
    """What the layer saw of one exchange: the status, headers and the first bytes of
    each body (at most ``window``), their sizes, and when the answer ended."""

    __slots__ = (
        "window", "began", "ended", "status", "headers",
        "request", "request_size", "response", "response_size",
    )  # fmt: skip

    def __init__(self, window: int, began: float) -> None:
        self.window = window
        self.began = began
        self.ended = 0.0
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.request: list[bytes] = []
        self.request_size = 0
        self.response: list[bytes] = []
        self.response_size = 0

    def receiving(self, receive: Receive) -> Receive:
        async def receive_kept() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if self.request_size < self.window:
                    self.request.append(body[: self.window - self.request_size])
                self.request_size += len(body)
            return message

        return receive_kept

    def sending(self, send: Send) -> Send:
        async def send_kept(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.body":
                body = message.get("body", b"")
                if self.response_size < self.window:
                    self.response.append(body[: self.window - self.response_size])
                self.response_size += len(body)
                if not message.get("more_body"):
                    self.ended = time.perf_counter()
            elif kind == "http.response.start":
                self.status = message["status"]
                self.headers = message.get("headers", [])
            await send(message)

        return send_kept


def _token_client(scope: Scope, body: bytes) -> str | None:
    """The client a token was just issued to: its Basic credentials, or the form's."""
    for name, value in scope["headers"]:
        if name == b"authorization" and value[:6].lower() == b"basic ":
            try:
                decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
            return unquote_plus(decoded.partition(":")[0]) or None
    # The grant succeeded, so the form was well formed and named its client once
    # (operations.py refuses a repeated field): the first client_id is the one.
    for field in body.split(b"&", 16):
        name, _, value = field.partition(b"=")
        if b"%" in name or b"+" in name:  # an encoded name: compare it decoded
            name = unquote_plus(name.decode("utf-8", "replace")).encode()
        if name == b"client_id":
            return unquote_plus(value.decode("utf-8", "replace")) or None
    return None
