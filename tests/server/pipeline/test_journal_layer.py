"""The journal layer (``pipeline/journal.py``): what it records, and what it never does.

A fault injected by the chaos layer is marked on its exchange; a token request
that failed names no trusted client and goes in nobody's journal; the layer
never changes an answer. On both engines.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from pin_mock.server import Settings, create_app
from pin_mock.server.wiring import build_services
from sandboxes import ENGINES, engine_url
from tokens import fetch_token


@pytest.fixture(params=ENGINES)
def faulty(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A sandbox whose exchanges to ``/v1/patients/patient_123`` are marked with a fault,
    as the chaos layer marks them (``scope["state"]["pin_fault"]``)."""
    settings = Settings(report_delay=0.0, state=engine_url(request.param))
    app = create_app(settings, services=build_services(settings, clock=time.time))

    async def chaos(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/patients/patient_123":
            scope.setdefault("state", {})["pin_fault"] = "empty_response"
        await app(scope, receive, send)

    with TestClient(chaos) as client:
        yield client


def _journal(client: TestClient, token: str) -> list[dict]:
    answer = client.get("/_sandbox/requests", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def test_an_injected_fault_is_marked_on_its_exchange(faulty: TestClient) -> None:
    token = fetch_token(faulty, "sandbox-enterprise")
    headers = {"Authorization": f"Bearer {token}"}
    assert faulty.get("/v1/patients/patient_123", headers=headers).status_code == 200
    assert faulty.get("/v1/patients?limit=1", headers=headers).status_code == 200
    marks = {e["path"]: e["fault"] for e in _journal(faulty, token) if e["kind"] == "request"}
    assert marks["/v1/patients/patient_123"] == "empty_response"
    assert marks["/v1/patients"] is None


def test_a_failed_token_request_fills_nobodys_journal(faulty: TestClient) -> None:
    form = {"grant_type": "client_credentials", "client_id": "sandbox-standard"}
    for secret in ("wrong", "also-wrong"):
        refused = faulty.post("/oauth/token", data={**form, "client_secret": secret})
        assert refused.status_code == 401
    token = fetch_token(faulty, "sandbox-standard")
    assert [e["status"] for e in _journal(faulty, token)] == [200]  # its own sign-in only


def test_a_granted_token_request_goes_in_its_clients_journal_however_it_named_it(
    faulty: TestClient,
) -> None:
    """The client is read off the form (its name percent-encoded or not) or Basic."""
    encoded = "grant_type=client_credentials&client%5Fid=sandbox-standard&client_secret=" + (
        "sandbox-standard-secret"
    )
    granted = faulty.post(
        "/oauth/token",
        content=encoded,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert granted.status_code == 200, granted.text
    basic = faulty.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-standard", "sandbox-standard-secret"),
    )
    assert basic.status_code == 200, basic.text
    token = basic.json()["access_token"]
    entries = _journal(faulty, token)
    assert [(e["path"], e["status"]) for e in entries] == [("/oauth/token", 200)] * 2
    assert all("sandbox-standard-secret" not in str(e) for e in entries)
