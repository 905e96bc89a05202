"""``/healthz`` and ``/readyz``: answered first, on both engines, and failing fast without Redis."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from harness import Sandbox
from pin_mock.server import Settings, create_app
from pin_mock.server.wiring import build_services
from private_redis import PrivateRedis
from sandboxes import ENGINES, engine_url

BOUND = 20.0  # seconds: how long a condition may take to hold (never a timing assertion)
#: /readyz must answer within this even with Redis gone or frozen (it probes for 0.5 s).
FAIL_FAST = 2.0
#: A probe from a load balancer or kubelet names the address, not a host name.
PROBE_HOST = {"Host": "10.1.2.3:8080"}


def wait_for_status(http: TestClient, path: str, status: int) -> None:
    deadline = time.monotonic() + BOUND
    while http.get(path).status_code != status:
        assert time.monotonic() < deadline, f"{path} never answered {status}"
        time.sleep(0.05)


def test_probes_answer_any_host_with_no_token_or_budget(sandbox_factory) -> None:
    sb: Sandbox = sandbox_factory(allowed_hosts="local")
    # The Host check is on: an API request naming the address is refused ...
    assert sb.http.get("/v1/patients", headers=PROBE_HOST).status_code == 400
    # ... but the probes answer it, with no token, no rate-limit headers, no request id.
    alive = sb.http.get("/healthz", headers=PROBE_HOST)
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    ready = sb.http.get("/readyz", headers=PROBE_HOST)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"state": "ok", "workers": "ok", "seed": "ok", "processes": "ok"}}  # fmt: skip
    for answer in (alive, ready):
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["cache-control"] == "no-store"
        assert not {"x-ratelimit-limit", "x-request-id"} & set(answer.headers)
    head = sb.http.head("/readyz")
    assert head.status_code == 200 and head.content == b""


def test_probes_never_spend_a_budget(sandbox_factory) -> None:
    limits = {"standard": 3, "professional": 3, "enterprise": 3}
    sb: Sandbox = sandbox_factory(tier_limits=limits, metrics=True)
    for _ in range(10):  # far past any budget of 3
        for path in ("/healthz", "/readyz", "/metrics"):
            assert sb.http.get(path).status_code == 200
    first = sb.get("/v1/patients?limit=1")
    assert first.status_code == 200 and first.headers["X-RateLimit-Remaining"] == "2"


def test_other_methods_are_405_with_the_envelope(sandbox: Sandbox) -> None:
    for path in ("/healthz", "/readyz"):
        refused = sandbox.http.post(path)
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD"
        assert refused.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_readyz_is_503_while_the_workers_are_stopped(sandbox: Sandbox) -> None:
    readiness = sandbox.services.observability.readiness
    readiness.started = False  # what the lifespan does first when the app stops
    try:
        down = sandbox.http.get("/readyz")
        assert down.status_code == 503
        assert int(down.headers["retry-after"]) >= 1
        error = down.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert error["details"]["checks"]["workers"] != "ok"
        assert error["details"]["checks"]["state"] == "ok"
        assert "workers" in error["message"]
        assert sandbox.http.get("/healthz").status_code == 200
    finally:
        readiness.started = True


@pytest.mark.parametrize("engine", ENGINES)
def test_the_lifespan_marks_the_process_ready_and_then_not(engine: str) -> None:
    settings = Settings(report_delay=0.0, state=engine_url(engine))
    services = build_services(settings)
    readiness = services.observability.readiness
    app = create_app(settings, services=services)
    assert readiness.seeded and not readiness.started  # built, the workers not yet started
    with TestClient(app) as http:
        assert readiness.started
        assert http.get("/readyz").status_code == 200
    assert not readiness.started


def test_readyz_fails_fast_without_redis_and_healthz_still_answers(
    private_redis: PrivateRedis,
) -> None:
    settings = Settings(report_delay=0.0, state=private_redis.url)
    services = build_services(settings)
    with TestClient(create_app(settings, services=services), raise_server_exceptions=False) as http:
        assert http.get("/readyz").status_code == 200

        private_redis.stop()  # refused connections
        wait_for_status(http, "/readyz", 503)
        began = time.monotonic()
        down = http.get("/readyz")
        assert time.monotonic() - began < FAIL_FAST
        assert down.status_code == 503 and int(down.headers["retry-after"]) >= 1
        checks = down.json()["error"]["details"]["checks"]
        assert checks["state"].startswith("the state engine is unusable")
        assert checks["workers"] == checks["seed"] == "ok"
        assert http.get("/healthz").status_code == 200

        private_redis.start()
        wait_for_status(http, "/readyz", 200)

        private_redis.freeze()  # accepts connections, never answers
        try:
            wait_for_status(http, "/readyz", 503)
            began = time.monotonic()
            hung = http.get("/readyz")
            assert time.monotonic() - began < FAIL_FAST
            assert "did not answer" in hung.json()["error"]["details"]["checks"]["state"]
            assert http.get("/healthz").status_code == 200
        finally:
            private_redis.thaw()
        wait_for_status(http, "/readyz", 200)
