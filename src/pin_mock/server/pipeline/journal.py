"""The journal layer: each answer to a known client goes into its request journal.

The outermost layer, so it sees what the client sees: the final status and
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
from urllib.parse import parse_qs, unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.domain.auth import TokenService
from pin_mock.server.domain.callers import identify
from pin_mock.server.domain.journal.entries import REDACTION_MARGIN, Exchange
from pin_mock.server.domain.journal.reasons import Documented, Reasons
from pin_mock.server.domain.journal.service import Journal
from pin_mock.server.pipeline.authentication import STATE_KEY, TOKEN_PATHS
from pin_mock.server.pipeline.operations import ROUTING, Operation

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
        tokens: TokenService,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.journal = journal
        self.reasons = reasons
        self.tokens = tokens
        self.clock = clock
        self.window = journal.body_bytes + REDACTION_MARGIN

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NOT_JOURNALED):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        scope.setdefault("extensions", {})  # shared with Connexion's copies: the operation id
        window = self.window
        started, began = self.clock(), time.perf_counter()
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        sizes = [0, 0]  # request, response
        answer: dict[str, Any] = {"status": 0, "headers": [], "ended": 0.0}

        async def receive_kept() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if sizes[0] < window:
                    request_chunks.append(body[: window - sizes[0]])
                sizes[0] += len(body)
            return message

        async def send_kept(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                if sizes[1] < window:
                    response_chunks.append(body[: window - sizes[1]])
                sizes[1] += len(body)
                if not message.get("more_body"):
                    answer["ended"] = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive_kept, send_kept)
        finally:
            if answer["status"] or state.get(FAULT_KEY):
                try:
                    self._record(scope, state, answer, started, began, request_chunks,
                                 response_chunks, sizes)  # fmt: skip
                except Exception:  # the journal never fails a request
                    log.exception("journal: could not record %s %s", scope["method"], scope["path"])

    def _record(
        self,
        scope: Scope,
        state: dict[str, Any],
        answer: dict[str, Any],
        started: float,
        began: float,
        request_chunks: list[bytes],
        response_chunks: list[bytes],
        sizes: list[int],
    ) -> None:
        routing = scope.get("extensions", {}).get(ROUTING) or {}
        operation = routing.get("operation_id")
        request_body = b"".join(request_chunks)
        client_id = self._client(scope, state, answer["status"], request_body)
        if client_id is None:
            return
        ended = answer["ended"] or time.perf_counter()
        status, response_body = answer["status"], b"".join(response_chunks)
        exchange = Exchange(
            started=started,
            duration_ms=(ended - began) * 1000,
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            operation=operation,
            status=status,
            request_id=next(
                (v.decode("latin-1") for k, v in answer["headers"] if k == b"x-request-id"), None
            ),
            request_headers=scope["headers"],
            response_headers=answer["headers"],
            request_body=request_body,
            request_size=sizes[0],
            response_body=response_body,
            response_size=sizes[1],
            fault=state.get(FAULT_KEY),
            reason=self.reasons.reason(
                status, operation, scope["method"], scope["path"], response_body
            ),
        )
        self.journal.record(client_id, exchange)

    def _client(self, scope: Scope, state: dict[str, Any], status: int, body: bytes) -> str | None:
        caller = state.get(STATE_KEY)
        if caller is not None and caller.client_id is not None:
            return caller.client_id
        if scope["path"] == TOKEN_ENDPOINT:
            return _token_client(scope, body) if status == 200 else None
        if scope["path"].startswith(TOKEN_PATHS) or caller is None:
            return None  # verified already, and not valid
        if caller.authorization[:7].lower() != "bearer ":
            return None
        # A path no operation has: the token was not verified there; verify it now.
        return identify(caller.authorization, self.tokens, caller.peer).client_id


def _token_client(scope: Scope, body: bytes) -> str | None:
    """The client a token was just issued to: its Basic credentials, or the form's."""
    for name, value in scope["headers"]:
        if name == b"authorization" and value[:6].lower() == b"basic ":
            try:
                decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return None
            return unquote_plus(decoded.partition(":")[0]) or None
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=16)
    return (fields.get("client_id") or [None])[0]
