"""``/metrics`` (``--metrics``): what is counted, on both engines, and with Redis lost.

Each test reads the exposition as Prometheus would (``prometheus_client``'s parser).
The two-worker case (both workers' counts in one scrape) is
``tests/multiprocess/test_mp_observability.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from harness import Sandbox
from loopback_receiver import Receiver
from pin_mock.server import Settings, create_app
from pin_mock.server.wiring import build_services
from private_redis import PrivateRedis
from webhook_helpers import FAST, create_patient, register, settled_log, wait_until

REPORT = {"type": "outcomes", "format": "json"}


def scrape(http: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_off_by_default(sandbox: Sandbox) -> None:
    off = sandbox.http.get("/metrics")
    assert off.status_code == 404
    assert off.json()["error"]["code"] == "NOT_FOUND"


def test_requests_are_counted_by_operation_status_and_tier(sandbox_factory) -> None:
    sb: Sandbox = sandbox_factory(metrics=True)
    for _ in range(3):
        assert sb.get("/v1/patients?limit=1").status_code == 200
    missing = sb.get("/v1/patients/patient_nope", as_client="sandbox-standard")
    assert missing.status_code == 404
    assert sb.http.get("/no/such/path").status_code == 404
    assert sb.http.get("/healthz").status_code == 200  # probes are not counted
    assert sb.http.get("/readyz").status_code == 200

    samples = scrape(sb.http)
    requests = "pin_mock_http_requests_total"
    assert value(samples, requests, operation="listPatients", status="200", tier="enterprise") == 3
    assert value(samples, requests, operation="getPatient", status="404", tier="standard") == 1
    assert value(samples, requests, operation="other", status="404", tier="none") == 1
    assert value(samples, requests, operation="issueToken", status="200", tier="none") == 2
    operations = {dict(labels).get("operation") for name, labels in samples if name == requests}
    assert operations == {"listPatients", "getPatient", "other", "issueToken"}  # no probe
    latency = "pin_mock_http_request_duration_seconds"
    assert value(samples, f"{latency}_count", operation="listPatients") == 3
    assert value(samples, f"{latency}_sum", operation="listPatients") > 0
    buckets = sorted(
        (float(dict(labels)["le"]), n)
        for (name, labels), n in samples.items()
        if name == f"{latency}_bucket" and dict(labels)["operation"] == "listPatients"
    )
    assert [n for _, n in buckets] == sorted(n for _, n in buckets) and buckets[-1][1] == 3
    assert value(samples, "pin_mock_state_up") == 1


def test_rate_limit_refusals_and_throttled_tokens_are_counted(sandbox_factory) -> None:
    limits = {"standard": 2, "professional": 1_000, "enterprise": 1_000}
    sb: Sandbox = sandbox_factory(metrics=True, tier_limits=limits, token_grants_per_client=2)
    statuses = [
        sb.get("/v1/patients?limit=1", as_client="sandbox-standard").status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    # A 429 the client asked for (Prefer) is no refusal.
    forced = sb.get("/v1/patients", headers={"Prefer": "code=429"})
    assert forced.status_code == 429 and "preference-applied" in forced.headers
    form = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-professional",
        "client_secret": "sandbox-professional-secret",
    }
    grants = [sb.http.post("/oauth/token", data=form).status_code for _ in range(3)]
    assert grants == [200, 200, 429]

    samples = scrape(sb.http)
    assert value(samples, "pin_mock_rate_limited_total", tier="standard") == 1
    assert value(samples, "pin_mock_rate_limited_total", tier="enterprise") == 0
    assert value(samples, "pin_mock_token_throttled_total") == 1
    requests = "pin_mock_http_requests_total"
    assert value(samples, requests, operation="listPatients", status="429", tier="enterprise") == 1
    # Refused before routing, still counted under its operation.
    assert value(samples, requests, operation="listPatients", status="429", tier="standard") == 1
    assert value(samples, requests, operation="issueToken", status="429", tier="none") == 1


def test_deliveries_and_reports_are_counted_with_their_outcome(
    sandbox_factory, receiver: Receiver
) -> None:
    sb: Sandbox = sandbox_factory(metrics=True, **FAST)
    receiver.plans["/flaky"] = [500, 200]
    hook = register(sb, receiver.url("/flaky"), ["patient.created"])
    create_patient(sb)
    settled_log(sb, hook["id"], 2)
    made = sb.post("/v1/reports", json=REPORT)
    failing = sb.post(
        "/v1/reports", json={**REPORT, "parameters": {"patient_id": "patient_report_fails"}}
    )
    assert made.status_code == failing.status_code == 202

    def counted() -> dict[Any, float] | None:
        samples = scrape(sb.http)
        done = value(samples, "pin_mock_reports_total", state="completed")
        failed = value(samples, "pin_mock_reports_total", state="failed")
        return samples if done == 1 and failed == 1 else None

    samples = wait_until(counted)
    assert value(samples, "pin_mock_reports_total", state="processing") == 2
    assert value(samples, "pin_mock_webhook_deliveries_total", outcome="failed") == 1
    assert value(samples, "pin_mock_webhook_deliveries_total", outcome="succeeded") == 1
    attempts = "pin_mock_webhook_delivery_duration_seconds_count"
    assert value(samples, attempts, outcome="failed") == 1
    assert value(samples, attempts, outcome="succeeded") == 1


def test_queue_depths_are_read_at_the_scrape(sandbox_factory) -> None:
    # Deliveries to a closed port fail at once; the retry waits an hour (scheduled).
    sb: Sandbox = sandbox_factory(metrics=True, webhook_retry_schedule=(3600.0,))
    hook = register(sb, "http://127.0.0.1:9/hook", ["patient.created"])
    create_patient(sb)
    create_patient(sb)

    def settled() -> dict[Any, float] | None:
        # On Redis a job's retry is scheduled a moment before its own entry is settled.
        samples = scrape(sb.http)
        jobs = "pin_mock_queue_jobs"
        waiting = value(samples, jobs, queue="deliveries", state="scheduled")
        return (
            samples
            if (waiting, value(samples, jobs, queue="deliveries", state="queued")) == (2, 0)
            else None
        )

    samples = wait_until(settled)
    assert value(samples, "pin_mock_queue_jobs", queue="deliveries", state="scheduled") == 2
    assert value(samples, "pin_mock_queue_jobs", queue="reports", state="queued") == 0
    assert hook["id"]


def test_a_lost_redis_is_counted_and_the_scrape_still_answers(
    private_redis: PrivateRedis,
) -> None:
    settings = Settings(report_delay=0.0, state=private_redis.url, metrics=True)
    services = build_services(settings)
    with TestClient(create_app(settings, services=services), raise_server_exceptions=False) as http:
        sandbox = Sandbox(http, services)
        assert sandbox.get("/v1/patients?limit=1").status_code == 200
        private_redis.stop()
        lost = sandbox.get("/v1/patients?limit=1")
        assert lost.status_code == 503
        samples = wait_until(
            lambda: (s := scrape(http)) and value(s, "pin_mock_state_up") == 0 and s
        )
        assert value(samples, "pin_mock_state_unavailable_total") == 1
        assert not [name for name, _ in samples if name == "pin_mock_queue_jobs"]
        assert (
            value(
                samples,
                "pin_mock_http_requests_total",
                operation="listPatients",
                status="503",
                tier="enterprise",
            )
            == 1
        )
        private_redis.start()
        wait_until(lambda: value(scrape(http), "pin_mock_state_up") == 1, timeout=20)


def test_background_jobs_a_lost_redis_interrupts_are_counted(
    sandbox_factory, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb: Sandbox = sandbox_factory(metrics=True, **FAST)
    once: list[str] = []

    def lost_once(name: str, real: Any) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if name not in once:
                once.append(name)
                raise redis.ConnectionError("Connection refused")  # what a lost Redis raises
            return await real(*args, **kwargs)

        return call

    jobs, dispatcher = sb.services.report_jobs, sb.services.deliveries
    monkeypatch.setattr(jobs, "_generate", lost_once("reports", jobs._generate))
    monkeypatch.setattr(dispatcher.poster, "attempt", lost_once("deliveries", dispatcher.poster.attempt))  # fmt: skip
    register(sb, receiver.url("/hook"), ["patient.created"])
    create_patient(sb)
    assert sb.post("/v1/reports", json=REPORT).status_code == 202

    def counted() -> dict[Any, float] | None:
        samples = scrape(sb.http)
        errors = "pin_mock_state_errors_total"
        both = value(samples, errors, queue="reports"), value(samples, errors, queue="deliveries")
        return samples if both == (1, 1) else None

    wait_until(counted)


def test_an_answer_is_counted_before_its_last_bytes_leave() -> None:
    # A scrape made once an answer has arrived counts it: with two workers the client may
    # ask the other one at once (tests/multiprocess/test_mp_observability.py), so the
    # count must be made before the server writes the answer's end, not after.
    app = create_app(Settings(metrics=True))

    async def call(method: str, path: str, headers: list, body: bytes, on_end=None) -> bytes:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"limit=1" if path == "/v1/patients" else b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8080"), *headers],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
        }  # fmt: skip
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and on_end is not None:
                    await on_end()

        await app(scope, receive, send)
        return b"".join(chunks)

    async def main() -> list[float]:
        form = urlencode(
            {"grant_type": "client_credentials", "client_id": "sandbox-enterprise",
             "client_secret": "sandbox-enterprise-secret"}
        ).encode()  # fmt: skip
        form_type = [(b"content-type", b"application/x-www-form-urlencoded")]
        token = orjson.loads(await call("POST", "/oauth/token", form_type, form))["access_token"]
        seen: list[float] = []

        async def scrape_now() -> None:  # as the answer's last bytes are handed to the server
            text = (await call("GET", "/metrics", [], b"")).decode()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if (
                        sample.name == "pin_mock_http_requests_total"
                        and sample.labels.get("operation") == "listPatients"
                    ):
                        seen.append(sample.value)

        bearer = [(b"authorization", f"Bearer {token}".encode())]
        for _ in range(2):
            await call("GET", "/v1/patients", bearer, b"", on_end=scrape_now)
        return seen

    assert asyncio.run(main()) == [1.0, 2.0]
