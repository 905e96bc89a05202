"""OpenTelemetry traces (``--traces``): a span per request and per background job, on both engines.

The spans are read with the SDK's ``InMemorySpanExporter`` (``OTEL_TRACES_EXPORTER=none``
so nothing else is exported); the last test lets the OTLP exporter send them to a
collector on loopback named by ``OTEL_EXPORTER_OTLP_ENDPOINT``, as an operator would.
"""

from __future__ import annotations

import http.server
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.testclient import TestClient

from harness import Sandbox
from loopback_receiver import Receiver
from pin_mock.server import Settings, create_app
from pin_mock.server.errors import ConfigError
from pin_mock.server.observability.tracing import Tracing
from webhook_helpers import register, wait_until

REPORT = {"type": "outcomes", "format": "json"}


@pytest.fixture
def traced(
    sandbox_factory: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Sandbox, InMemorySpanExporter]]:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    sb = sandbox_factory(traces=True)
    tracing = sb.services.observability.tracing
    assert tracing is not None
    exporter = InMemorySpanExporter()
    tracing.provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield sb, exporter


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]


def test_one_span_per_request_with_its_operation_request_id_and_client(traced) -> None:
    sb, exporter = traced
    sb.token()  # the token requests: spans of their own
    sb.token("sandbox-standard")
    exporter.clear()
    listed = sb.get("/v1/patients?limit=1", headers={"X-Request-Id": "trace-me-1"})
    missing = sb.get("/v1/patients/patient_nope", as_client="sandbox-standard")
    assert sb.http.get("/healthz").status_code == 200  # probes make no span
    assert sb.http.get("/readyz").status_code == 200

    spans = server_spans(exporter)
    assert len(spans) == 2, [s.name for s in spans]
    assert len(exporter.get_finished_spans()) == 2  # no per-message send/receive spans
    first, second = spans
    assert first.name == "GET /v1/patients"
    assert first.attributes["http.route"] == "/v1/patients"
    assert first.attributes["pin.operation_id"] == "listPatients"
    assert first.attributes["pin.request_id"] == "trace-me-1" == listed.headers["x-request-id"]
    assert first.attributes["pin.client_id"] == "sandbox-enterprise"
    assert second.attributes["pin.operation_id"] == "getPatient"
    assert second.attributes["pin.request_id"] == missing.headers["x-request-id"]  # generated
    assert second.attributes["pin.client_id"] == "sandbox-standard"
    assert second.name == "GET /v1/patients/{patient_id}"
    status_of = {s.attributes["pin.operation_id"]: s.attributes["http.response.status_code"] for s in spans}  # fmt: skip
    assert status_of == {"listPatients": 200, "getPatient": 404}
    assert first.attributes["http.request.method"] == "GET"
    assert first.attributes["url.path"] == "/v1/patients"
    assert first.context.trace_id != second.context.trace_id


def test_a_callers_traceparent_is_continued(traced) -> None:
    sb, exporter = traced
    sb.token()
    exporter.clear()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent = f"00-{trace_id}-00f067aa0ba902b7-01"
    sb.get("/v1/patients?limit=1", headers={"traceparent": parent})
    (span,) = server_spans(exporter)
    assert f"{span.context.trace_id:032x}" == trace_id


def test_one_span_per_report_job_and_per_delivery(traced, receiver: Receiver) -> None:
    sb, exporter = traced
    hook = register(sb, receiver.url("/done"), ["report.completed"])
    made = sb.post("/v1/reports", json=REPORT)
    assert made.status_code == 202
    receiver.wait_for(1, "/done")

    def jobs() -> list[ReadableSpan] | None:
        found = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CONSUMER]
        return found if len(found) >= 2 else None

    spans = wait_until(jobs)
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    assert sorted(by_name) == ["report.job", "webhook.delivery"]
    (report,) = by_name["report.job"]
    (delivery,) = by_name["webhook.delivery"]
    assert report.attributes["pin.report_id"] == made.json()["id"]
    assert report.attributes["pin.client_id"] == "sandbox-enterprise"
    assert delivery.attributes["pin.webhook_id"] == hook["id"]
    assert delivery.attributes["pin.attempt"] == 1
    assert delivery.attributes["pin.client_id"] == "sandbox-enterprise"
    # Each job links to what queued it: the request, then the job that made the event.
    (post,) = [s for s in server_spans(exporter) if s.name == "POST /v1/reports"]
    assert [link.context.span_id for link in report.links] == [post.context.span_id]
    assert [link.context.trace_id for link in report.links] == [post.context.trace_id]
    assert [link.context.span_id for link in delivery.links] == [report.context.span_id]


def test_a_delivery_links_to_the_request_that_made_its_event(traced, receiver: Receiver) -> None:
    sb, exporter = traced
    register(sb, receiver.url("/created"), ["patient.created"])
    created = sb.post("/v1/patients", json={"name": "Linked Span", "date_of_birth": "1990-01-01"})
    assert created.status_code == 201
    receiver.wait_for(1, "/created")

    def delivered() -> ReadableSpan | None:
        found = [s for s in exporter.get_finished_spans() if s.name == "webhook.delivery"]
        return found[0] if found else None

    delivery = wait_until(delivered)
    (post,) = [s for s in server_spans(exporter) if s.name == "POST /v1/patients"]
    assert [(link.context.trace_id, link.context.span_id) for link in delivery.links] == [
        (post.context.trace_id, post.context.span_id)
    ]


def test_an_unknown_exporter_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ConfigError, match="otlp, console or none"):
        Tracing.from_environment()


class Collector:
    """An OTLP/HTTP trace collector on loopback: keeps each export request's spans."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.paths: list[str] = []
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = ExportTraceServiceRequest.FromString(raw)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        collector.names += [span.name for span in scope.spans]
                collector.paths.append(self.path)
                collector.service = next(
                    a.value.string_value
                    for a in request.resource_spans[0].resource.attributes
                    if a.key == "service.name"
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for the next poll: 0.05 s, not the default 0.5 s.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.service = ""

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_spans_are_exported_where_the_otel_variables_say(monkeypatch: pytest.MonkeyPatch) -> None:
    collector = Collector()
    try:
        monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "team-sandbox")
        settings = Settings(report_delay=0.0, traces=True)
        with TestClient(create_app(settings)) as http:
            form = {
                "grant_type": "client_credentials",
                "client_id": "sandbox-standard",
                "client_secret": "sandbox-standard-secret",
            }
            assert http.post("/oauth/token", data=form).status_code == 200
        # Leaving the app flushed the batch: the export has been answered.
        deadline = time.monotonic() + 20
        while "POST /oauth/token" not in collector.names:
            assert time.monotonic() < deadline, collector.names
            time.sleep(0.05)
        assert collector.paths[0] == "/v1/traces"
        assert collector.service == "team-sandbox"
    finally:
        collector.close()


def test_traces_without_the_extra_stop_start_up_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'pin-mock\[server,traces\]'"):
        Tracing.from_environment()
