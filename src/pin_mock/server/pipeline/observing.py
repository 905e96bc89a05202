"""The observing layers: ``/healthz``, ``/readyz`` and ``/metrics``, and every request seen.

``ObservingMiddleware`` is the outermost layer of the sandbox (inside only the
request span, when ``--traces``):

- ``GET /healthz``: 200 ``{"status": "ok"}``: the process answers (liveness);
- ``GET /readyz``: 200 with each check ``ok``, or ``503 SERVICE_UNAVAILABLE`` in
  PIN's envelope with ``Retry-After`` and the failing checks
  (``observability/readiness.py``), within about half a second even when Redis is gone;
- ``GET /metrics`` (``--metrics`` only; else these paths are unknown, 404):
  the Prometheus exposition (``observability/exposition.py``).

They are answered before anything else runs: no ``Host`` check (a load balancer
or kubelet probes by address), no token, no rate limit, no ``X-Request-Id``; they
are never counted in the metrics. ``HEAD`` works like ``GET``; other methods are 405.

Every other request, when metrics or traces are on, is timed from here to the end
of its answer and counted by ``operationId`` (set by ``OperationLabelMiddleware``,
right after routing; ``other`` when nothing was routed), status and the caller's
tier. The refusals are told apart by where they came from, with no hook in the
layers that refuse: a ``/v1`` 429 without ``Preference-Applied`` is the rate
limiter's; a 429 from ``/oauth/token``, the token throttle's; any 503 without it,
the state engine's (connection caps answer in the transport, below the app).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from connexion.middleware.abstract import ROUTING_CONTEXT
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.encoding import encode
from pin_mock.server.errors import TOKEN_PATH, MethodNotAllowed, ServiceUnavailable, render_raw
from pin_mock.server.observability import Observability
from pin_mock.server.observability.exposition import CONTENT_TYPE, scrape
from pin_mock.server.observability.readiness import OK
from pin_mock.server.pipeline.authentication import caller_of

HEALTH, READY, METRICS = "/healthz", "/readyz", "/metrics"
#: Every path this layer answers (routing never sees them; documented in the sandbox's view).
PROBE_PATHS = (HEALTH, READY, METRICS)
#: Where a request's record waits for the operation layer's label (``scope["state"]``).
STATE_KEY = "pin_mock.observed"
OTHER = "other"
_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
_ALLOW = [(b"allow", b"GET, HEAD")]
#: Seconds a load balancer waits before asking again when not ready.
RETRY_AFTER = 1


@dataclass
class Observed:
    """What the layers below learn about one request."""

    operation: str = OTHER


class ObservingMiddleware:
    """Answers the probes and the scrape; times and counts every other request."""

    def __init__(
        self, app: ASGIApp, *, observability: Observability, spec: dict[str, Any] | None = None
    ) -> None:
        self.app = app
        self.index = OperationIndex(spec or {})
        self.readiness = observability.readiness
        self.metrics = observability.metrics
        self.tracing = observability.tracing
        self.answers = {HEALTH: self._health, READY: self._ready}
        if self.metrics is not None:
            self.answers[METRICS] = self._metrics
        self.observing = self.metrics is not None or self.tracing is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = self.answers.get(scope["path"])
        if answer is not None:
            if scope["method"] not in ("GET", "HEAD"):
                error = MethodNotAllowed(f"{scope['path']} answers GET and HEAD only.")
                status, headers, body = render_raw(error, scope["path"])
                await _send(send, status, headers + _ALLOW, body, scope)
                return
            await answer(scope, send)
            return
        if not self.observing:
            await self.app(scope, receive, send)
            return
        await self._observe(scope, receive, send)

    async def _observe(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        observed = Observed()
        scope.setdefault("state", {})[STATE_KEY] = observed
        status, preferred, counted = 500, False, False

        def count() -> None:
            nonlocal counted
            counted = True
            seconds = time.perf_counter() - started
            self._count(scope, self._operation(scope, observed), status, preferred, seconds)

        async def send_observed(message: Message) -> None:
            nonlocal status, preferred
            if message["type"] == "http.response.body":
                if not message.get("more_body", False) and self.metrics is not None:
                    # Counted before the answer's last bytes leave, so a scrape made after
                    # the answer arrived counts it (on any worker: the count is in this
                    # worker's file before the client can ask another one).
                    count()
            elif message["type"] == "http.response.start":
                status, request_id = message["status"], b""
                for name, value in message.get("headers", ()):
                    if name == b"x-request-id":
                        request_id = value
                    elif name == b"preference-applied":
                        preferred = True
                if self.tracing is not None:
                    operation = self._operation(scope, observed)
                    self.tracing.annotate(
                        scope["method"],
                        operation,
                        self.index.templates.get(operation, ""),
                        request_id.decode("latin-1"),
                        caller_of(scope).client_id or "",
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            if self.metrics is not None and not counted:  # no answer, or not a whole one
                count()

    def _operation(self, scope: Scope, observed: Observed) -> str:
        if observed.operation == OTHER:  # refused before routing (429, 503, 401...): by path
            observed.operation = self.index(scope["method"], scope["path"])
        return observed.operation

    def _count(
        self, scope: Scope, operation: str, status: int, preferred: bool, seconds: float
    ) -> None:
        assert self.metrics is not None
        tier = caller_of(scope).tier or "none"
        self.metrics.request(operation, status, tier, seconds)
        if status in (429, 503) and not preferred:
            if status == 503:
                self.metrics.unavailable.inc()
            elif scope["path"] == TOKEN_PATH:
                self.metrics.token_throttled.inc()
            elif scope["path"].startswith("/v1/"):
                self.metrics.rate_limited.labels(tier).inc()

    async def _health(self, scope: Scope, send: Send) -> None:
        await _send(send, 200, _JSON, b'{"status":"ok"}', scope)

    async def _ready(self, scope: Scope, send: Send) -> None:
        checks = await self.readiness.checks()
        if all(value == OK for value in checks.values()):
            body = encode({"status": "ready", "checks": checks})
            await _send(send, 200, _JSON, body, scope)
            return
        failing = "; ".join(f"{name}: {why}" for name, why in checks.items() if why != OK)
        error = ServiceUnavailable(f"Not ready: {failing}.", retry_after=RETRY_AFTER)
        error.details["checks"] = checks
        status, headers, raw = render_raw(error, scope["path"])
        await _send(send, status, headers + [(b"cache-control", b"no-store")], raw, scope)

    async def _metrics(self, scope: Scope, send: Send) -> None:
        assert self.metrics is not None
        body = await scrape(self.metrics, self.readiness)
        headers = [(b"content-type", CONTENT_TYPE.encode()), (b"cache-control", b"no-store")]
        await _send(send, 200, headers, body, scope)


async def _send(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, scope: Scope
) -> None:
    headers = [h for h in headers if h[0] != b"content-length"]
    headers.append((b"content-length", b"%d" % len(body)))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


class OperationIndex:
    """The ``operationId`` of a method and path, for requests a layer refused before routing.

    Literal templates are tried before templated ones (``/v1/patients`` before
    ``/v1/patients/{patient_id}``); anything else is ``other``.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        entries = []
        #: Each operation's path template (a span's ``http.route``).
        self.templates: dict[str, str] = {}
        for template, item in spec.get("paths", {}).items():
            methods = {
                method.upper(): definition["operationId"]
                for method, definition in item.items()
                if isinstance(definition, dict) and "operationId" in definition
            }
            self.templates.update({operation: template for operation in methods.values()})
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            entries.append((template.count("{"), re.compile(f"^{pattern}$"), methods))
        self._entries = [
            (pattern, methods) for _, pattern, methods in sorted(entries, key=lambda e: e[0])
        ]

    def __call__(self, method: str, path: str) -> str:
        for pattern, methods in self._entries:
            if pattern.match(path):
                return methods.get(method, OTHER)
        return OTHER


class OperationLabelMiddleware:
    """Right after routing: tells the observing layer which operation this request is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            routing = scope.get("extensions", {}).get(ROUTING_CONTEXT)
            observed = scope.get("state", {}).get(STATE_KEY)
            if routing is not None and observed is not None:
                observed.operation = routing.get("operation_id") or OTHER
        await self.app(scope, receive, send)


def observing_layers(
    observability: Observability, spec: dict[str, Any]
) -> tuple[list[Any], list[Any]]:
    """(the outer layers, the layers right after routing) for ``create_app``'s list."""
    outer: list[Any] = []
    if observability.tracing is not None:
        outer.append(observability.tracing.middleware)
    outer.append(partial(ObservingMiddleware, observability=observability, spec=spec))
    inner: list[Any] = []
    if observability.metrics is not None or observability.tracing is not None:
        inner.append(OperationLabelMiddleware)
    return outer, inner
