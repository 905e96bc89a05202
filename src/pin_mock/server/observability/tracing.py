"""OpenTelemetry traces (``--traces``; ``pip install 'pin-mock[traces]'``).

One span per request (``ServerSpans``, the outermost layer: it continues a caller's
``traceparent`` with the SDK's propagators, and the observing layer names the span
``{method} {route}`` and adds ``http.route``, ``pin.operation_id``, ``pin.request_id``
and ``pin.client_id``) and one per background job (``report.job``,
``webhook.delivery``, with the client and the report or webhook, linked to the span
of the request or job that queued it: ``origins.py``), exported where the
standard ``OTEL_*`` variables say:

- ``OTEL_TRACES_EXPORTER``: ``otlp`` (the default: OTLP over HTTP/protobuf to
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``,
  default ``http://localhost:4318``, with ``OTEL_EXPORTER_OTLP_HEADERS`` and the
  rest read by the exporter itself), ``console`` (stdout) or ``none``;
- ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` (default service name
  ``pin-mock``), ``OTEL_TRACES_SAMPLER`` and its argument (read by the SDK).

The provider is the sandbox's own, never the process-wide global one, so tests
can build several sandboxes in one process and add their own span processor
(``InMemorySpanExporter``). Spans are batched off the request path and flushed
when the app stops.

Why not ``opentelemetry-instrumentation-asgi``: measured on the sandbox's GET of one
patient (CPU per request, ``bench/where_time_goes.py``-style), its middleware added
about 200 µs to a 130 µs request, sampled or not (it builds every semantic-convention
attribute before sampling); ``ServerSpans`` adds about 80 µs, mostly the SDK's own
span. It sets the stable HTTP attributes a backend groups by.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

from pin_mock.server.errors import ConfigError
from pin_mock.server.origins import ORIGIN

#: The paths the observing layer answers itself: probes and scrapes make no spans.
UNTRACED = ("/healthz", "/readyz", "/metrics")
EXPORTERS = ("otlp", "console", "none")


class Tracing:
    """The sandbox's tracer provider, its request middleware and its job spans."""

    def __init__(self, provider: Any) -> None:
        from opentelemetry import trace

        self.provider = provider
        self.tracer = provider.get_tracer("pin_mock")
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._current_span = trace.get_current_span
        self._consumer = trace.SpanKind.CONSUMER
        self._link = trace.Link
        self._parents = TraceContextTextMapPropagator()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Tracing:
        """A provider exporting where ``OTEL_*`` says; ``ConfigError`` without the extra."""
        environ = os.environ if environ is None else environ
        try:
            from opentelemetry.sdk.resources import SERVICE_NAME, Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
        except ImportError:
            raise ConfigError(
                "--traces needs OpenTelemetry: pip install 'pin-mock[server,traces]'"
            ) from None
        exporter_name = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
        if exporter_name not in EXPORTERS:
            raise ConfigError(
                f"OTEL_TRACES_EXPORTER={exporter_name!r}: pin-mock exports to otlp, console or none"
            )
        resource = Resource.create()
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: "pin-mock"}))
        provider = TracerProvider(resource=resource)
        if exporter_name == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )
            except ImportError:
                raise ConfigError(
                    "--traces with OTEL_TRACES_EXPORTER=otlp needs "
                    "opentelemetry-exporter-otlp-proto-http: pip install 'pin-mock[traces]'"
                ) from None
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif exporter_name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        return cls(provider)

    def middleware(self, app: Any) -> Any:
        """The request span around ``app``."""
        return ServerSpans(app, self.tracer)

    def annotate(
        self, method: str, operation: str, route: str, request_id: str, client_id: str
    ) -> None:
        """Name the request's span after its route and say who asked what."""
        span = self._current_span()
        if not span.is_recording():
            return
        if route:
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
        span.set_attribute("pin.operation_id", operation)
        span.set_attribute("pin.request_id", request_id)
        if client_id:
            span.set_attribute("pin.client_id", client_id)

    @contextmanager
    def job(
        self, name: str, attributes: Mapping[str, Any], origin: str | None = None
    ) -> Iterator[Any]:
        """A span around one background job (a report's generation, a delivery attempt),
        linked to the span that queued it (``origin``, a ``traceparent``: ``origins.py``)."""
        links = []
        if origin:
            queued_by = self._current_span(self._parents.extract({"traceparent": origin}))
            if queued_by.get_span_context().is_valid:
                links.append(self._link(queued_by.get_span_context()))
        with self.tracer.start_as_current_span(
            name, kind=self._consumer, attributes=dict(attributes), links=links
        ) as span:
            named = ORIGIN.set(partial(traceparent, span))  # what this job queues links here
            try:
                yield span
            finally:
                ORIGIN.reset(named)

    def shutdown(self) -> None:
        """Flush what is batched and stop exporting (the app's lifespan, last)."""
        self.provider.shutdown()


class _ScopeHeaders:
    """The propagators' view of an ASGI scope's headers (``traceparent``, ``baggage``)."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        name = key.lower().encode("latin-1")
        found = [value.decode("latin-1") for header, value in carrier if header == name]
        return found or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [header.decode("latin-1") for header, _ in carrier]


class ServerSpans:
    """One ``SERVER`` span per HTTP request, continuing the caller's trace context."""

    def __init__(self, app: Any, tracer: Any) -> None:
        from opentelemetry.propagate import extract
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.app = app
        self.tracer = tracer
        self._extract = extract
        self._server = SpanKind.SERVER
        self._error = Status(StatusCode.ERROR)
        self._headers = _ScopeHeaders()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        attributes = {
            "http.request.method": method,
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
        }
        client = scope.get("client")
        if client:
            attributes["client.address"] = client[0]
        context = self._extract(scope["headers"], getter=self._headers)
        with self.tracer.start_as_current_span(
            method, context=context, kind=self._server, attributes=attributes
        ) as span:
            named = ORIGIN.set(partial(traceparent, span))  # the jobs it queues link here

            async def send_traced(message: Any) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(self._error)
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            finally:
                ORIGIN.reset(named)


def traceparent(span: Any) -> str:
    """``span``'s W3C ``traceparent`` (version 00)."""
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
