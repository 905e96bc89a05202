"""``pin_mock.testing.sandbox()``: a real sandbox on loopback, its handle and helpers, both engines."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from pin_mock.testing import Sandbox, sandbox
from pin_mock.testing.session import SandboxError
from redis_db import fresh_db


@pytest.fixture(params=["memory", "redis"])
def started(request: pytest.FixtureRequest):
    state = "memory://" if request.param == "memory" else fresh_db().url
    with sandbox(state=state, report_delay=0.0) as sb:
        yield sb


def test_a_real_server_on_loopback_with_an_authenticated_client(started: Sandbox) -> None:
    assert started.base_url.startswith("http://127.0.0.1:")
    answer = started.client.get("/v1/patients/patient_123")
    assert answer.status_code == 200 and answer.json()["name"] == "John Doe"
    assert (started.client_id, started.client_secret) == (
        "sandbox-enterprise",
        "sandbox-enterprise-secret",
    )


def test_reset_puts_every_client_handed_out_back_to_the_seeded_state(started: Sandbox) -> None:
    body = {"name": "Reset Me", "date_of_birth": "1990-01-01"}
    standard = started.client_for("sandbox-standard")
    for client in (started.client, standard):
        assert client.post("/v1/patients", json=body).status_code == 201
    started.reset()
    for client in (started.client, standard):
        found = client.get("/v1/patients", params={"search": "reset me"}).json()
        assert found["pagination"]["total"] == 0


def test_trigger_and_resend(started: Sandbox) -> None:
    event = started.trigger("report.failed")
    assert event["type"] == "report.failed" and event["webhook_ids"] == []
    with pytest.raises(SandboxError) as refused:
        started.resend(event["id"])  # no webhook subscribed: nothing to resend to
    assert refused.value.status == 409 and refused.value.error["code"] == "CONFLICT"
    with pytest.raises(SandboxError) as invalid:
        started.trigger("patient.deleted")
    assert invalid.value.status == 400


def test_a_token_the_sandbox_no_longer_takes_is_renewed_once(started: Sandbox) -> None:
    assert started.client.get("/v1/patients/patient_123").status_code == 200
    started.client.auth._token = "expired.or.revoked"  # type: ignore[attr-defined]
    assert started.client.get("/v1/patients/patient_123").status_code == 200


def test_the_server_stops_with_the_block() -> None:
    with sandbox() as sb:
        port = int(sb.base_url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_plugin_costs_a_run_that_does_not_use_it_nothing() -> None:
    script = (
        "import sys, pin_mock.testing.pytest_plugin, pin_mock.testing\n"
        "heavy = [m for m in ('pin_mock.server', 'httpx', 'uvicorn', 'connexion') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
