"""Redis lost while serving: 503 with the envelope and Retry-After, then back to normal.

A ``redis-server`` of the test's own (never the machine's) is stopped and
started again under a running sandbox; its append-only file keeps what was
acknowledged, so nothing acknowledged is lost.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from harness import Sandbox
from pin_mock.server import Settings, create_app
from pin_mock.server.wiring import build_services
from sandboxes import engine_url

BOUND = 20.0  # seconds: generous, never a timing assertion


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A ``redis-server`` on a free port, AOF fsync'd on every write, in a temp dir."""

    def __init__(self, directory: Path, *extra: str) -> None:
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.extra = list(extra)  # more redis-server options (``--maxmemory 2mb`` ...)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory)]
        args += self.extra
        self.process = subprocess.Popen(
            ["redis-server", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + BOUND
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(BOUND)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the outage test needs its own")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_lost_answers_503_then_serves_again_with_nothing_lost(
    private_redis: PrivateRedis,
) -> None:
    settings = Settings(report_delay=0.0, state=private_redis.url)
    services = build_services(settings)
    with TestClient(create_app(settings, services=services), raise_server_exceptions=False) as http:
        sandbox = Sandbox(http, services)
        token = sandbox.token("sandbox-standard")
        created = sandbox.post(
            "/v1/patients",
            as_client="sandbox-standard",
            json={"name": "Kept Through", "date_of_birth": "1980-05-05"},
        )
        assert created.status_code == 201
        location = created.headers["Location"]

        private_redis.stop()
        for method, url, body in (
            ("GET", "/v1/patients?limit=1", None),
            ("GET", location, None),
            ("POST", "/v1/patients", {"name": "Never Half", "date_of_birth": "1980-05-05"}),
        ):
            # The token was verified before: its key is cached, the request reaches Redis.
            down = sandbox.request(method, url, as_client="sandbox-standard", json=body)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert int(down.headers["Retry-After"]) >= 1
        form = {
            "grant_type": "client_credentials",
            "client_id": "sandbox-standard",
            "client_secret": "sandbox-standard-secret",
        }
        refused = http.post("/oauth/token", data=form)
        assert refused.status_code == 503
        assert refused.json()["error"] == "temporarily_unavailable"
        assert "Retry-After" in refused.headers

        private_redis.start()
        back = sandbox.get(location, as_client="sandbox-standard")
        assert back.status_code == 200 and back.json()["name"] == "Kept Through"
        listed = sandbox.get("/v1/patients?search=never half", as_client="sandbox-standard")
        assert listed.json()["pagination"]["total"] == 0  # the refused create left nothing
        again = sandbox.get(location, headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 200


@pytest.mark.parametrize("engine", ["memory", "redis"])
def test_a_lost_redis_inside_a_handler_is_503_with_the_rate_headers(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(report_delay=0.0, state=engine_url(engine))
    services = build_services(settings)

    async def lost(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Connection refused")

    with TestClient(create_app(settings, services=services), raise_server_exceptions=False) as http:
        sandbox = Sandbox(http, services)
        monkeypatch.setattr(services.store, "list_patients", lost)
        response = sandbox.get("/v1/patients")  # checked against the spec's 503
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert "X-RateLimit-Remaining" in response.headers


@pytest.fixture
def full_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private ``redis-server`` with a tiny ``maxmemory`` and ``noeviction``."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the full-Redis test needs its own")
    server = PrivateRedis(tmp_path, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    server.start()
    yield server
    server.stop()


def test_a_full_redis_answers_503_and_writes_nothing(full_redis: PrivateRedis) -> None:
    settings = Settings(report_delay=0.0, state=full_redis.url)
    services = build_services(settings)
    with TestClient(create_app(settings, services=services), raise_server_exceptions=False) as http:
        sandbox = Sandbox(http, services)
        sandbox.token("sandbox-standard")  # issued while there is room
        hook = sandbox.post(
            "/v1/webhooks",
            as_client="sandbox-standard",
            json={"url": "http://127.0.0.1:9/hook", "events": ["patient.created"]},
        )
        assert hook.status_code == 201, hook.text
        dispatcher = services.deliveries
        http.portal.call(dispatcher.queue.aclose)  # nothing takes a queued delivery away
        filler = redis.Redis(port=full_redis.port)
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            for n in range(1_000):  # 2 MiB is reached long before 1,000 x 64 KiB
                filler.set(f"filler:{n}", b"x" * 65_536)
        # Well under what is used now, so the sandbox's own buffers cannot make room.
        filler.config_set("maxmemory", "1mb")
        refused = sandbox.post(
            "/v1/patients",
            as_client="sandbox-standard",
            json={"name": "No Room", "date_of_birth": "1980-05-05"},
        )
        assert refused.status_code == 503, refused.text  # checked against the spec's 503
        assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert int(refused.headers["Retry-After"]) >= 1
        assert "full" in refused.json()["error"]["message"]
        # Every /v1 request counts against the rate limit in Redis (a write): reads too.
        read = sandbox.get("/v1/patients?limit=1", as_client="sandbox-standard")
        assert read.status_code == 503 and "Retry-After" in read.headers

        for key in filler.scan_iter("filler:*"):
            filler.delete(key)
        filler.config_set("maxmemory", "2mb")
        listed = sandbox.get("/v1/patients?search=no room", as_client="sandbox-standard")
        assert listed.status_code == 200
        assert listed.json()["pagination"]["total"] == 0  # the refused create left nothing
        assert filler.xlen(dispatcher.queue.stream) == 0  # ... and queued no event
        created = sandbox.post(
            "/v1/patients",
            as_client="sandbox-standard",
            json={"name": "Room Again", "date_of_birth": "1980-05-05"},
        )
        assert created.status_code == 201, created.text
        assert filler.xlen(dispatcher.queue.stream) == 1  # the patient and its event, together
        filler.close()
