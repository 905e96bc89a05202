"""The request journal (``GET /_sandbox/requests`` and its stream), on both engines.

Each test drives an in-process sandbox (``sandboxes.py``: memory and Redis) the
way an integrator would: requests of their own, then the journal read back as
the same client, or as another.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import Sandbox
from loopback_receiver import Receiver
from webhook_helpers import create_patient, register, wait_until

JOURNAL = "/_sandbox/requests"


def journal(sb: Sandbox, as_client: str = "sandbox-enterprise", **query: Any) -> dict[str, Any]:
    answer = sb.get(JOURNAL, params=query, as_client=as_client)
    assert answer.status_code == 200, answer.text
    return answer.json()


def entries(sb: Sandbox, as_client: str = "sandbox-enterprise", **query: Any) -> list[dict]:
    return journal(sb, as_client, **query)["data"]


def test_a_client_sees_its_own_exchanges_and_none_of_anothers(sandbox: Sandbox) -> None:
    assert sandbox.get("/v1/patients/patient_123").status_code == 200
    mine = entries(sandbox, operation="getPatient")
    assert [(e["method"], e["path"], e["status"]) for e in mine] == [
        ("GET", "/v1/patients/patient_123", 200)
    ]
    entry = mine[0]
    assert entry["kind"] == "request" and entry["operation"] == "getPatient"
    assert (
        entry["request_id"] and entry["request_id"] == entry["response"]["headers"]["x-request-id"]
    )
    assert entry["duration_ms"] >= 0 and entry["fault"] is None
    assert '"name":"John Doe"' in entry["response"]["body"]
    # Another client: its journal is its own (token requests only), never the first's.
    theirs = entries(sandbox, as_client="sandbox-standard")
    assert all(e["path"] != "/v1/patients/patient_123" for e in theirs)
    assert all(e["request_id"] != entry["request_id"] for e in theirs)
    assert journal(sandbox, as_client="sandbox-standard")["client_id"] == "sandbox-standard"


def test_the_journal_never_keeps_a_token_or_a_secret(sandbox: Sandbox, receiver: Receiver) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-professional",
        "client_secret": "sandbox-professional-secret",
    }
    issued = sandbox.http.post("/oauth/token", data=form)
    assert issued.status_code == 200
    token = issued.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = sandbox.http.post(
        "/v1/webhooks", json={"url": receiver.url(), "events": ["patient.created"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    listed = sandbox.http.get(JOURNAL, headers=headers)
    text = listed.text
    assert token not in text and token.split(".")[2] not in text
    assert "sandbox-professional-secret" not in text
    assert secret not in text and secret.removeprefix("whsec_") not in text
    found = {e["operation"]: e for e in listed.json()["data"]}
    assert found["issueToken"]["request"]["body"] == (
        "grant_type=client_credentials&client_id=sandbox-professional&client_secret=[redacted]"
    )
    assert '"access_token":"[redacted]"' in found["issueToken"]["response"]["body"]
    webhook = found["createWebhook"]
    assert webhook["request"]["headers"]["authorization"] == "Bearer [redacted]"
    assert '"secret":"[redacted]"' in webhook["response"]["body"]


def test_a_refused_request_names_the_parameter_and_the_spec_rule(sandbox: Sandbox) -> None:
    assert sandbox.get("/v1/patients?limit=500").status_code == 400
    body = {"name": "A", "date_of_birth": "1990-01-01", "gender": "robot"}
    assert sandbox.post("/v1/patients", json=body).status_code == 400
    refused = entries(sandbox, status="4xx")
    by_operation = {e["operation"]: e["reason"] for e in refused}
    limit = by_operation["listPatients"]
    assert limit["code"] == "INVALID_PARAMETER" and limit["parameter"] == "limit"
    assert limit["location"] == "query" and "1 to 100" in limit["rule"]
    assert limit["documented"]  # the spec's own description of the parameter
    gender = by_operation["createPatient"]
    assert gender["parameter"] == "gender" and gender["location"] == "body"
    assert gender["rule"].startswith("string, one of ") and "female" in gender["rule"]
    ok = entries(sandbox, status="200")
    assert ok and all(e["reason"] is None for e in ok)


def test_an_unknown_path_names_the_nearest_operation(sandbox: Sandbox) -> None:
    assert sandbox.get("/v1/patient/patient_123", check=False).status_code == 404
    # Outside /v1 and /_sandbox no token is verified, so nobody's journal has it.
    assert sandbox.get("/v2/patients", check=False).status_code == 404
    assert sandbox.request("PUT", "/v1/patients", check=False).status_code == 405
    found = entries(sandbox, status="404,405")
    nearest = {e["path"]: e["reason"]["nearest_operation"] for e in found}
    assert nearest["/v1/patient/patient_123"]["operation"] == "getPatient"
    assert "/v2/patients" not in nearest
    assert nearest["/v1/patients"]["path"] == "/v1/patients"  # the path, another method
    assert all(e["operation"] is None for e in found)


def test_the_journal_keeps_n_entries_and_cuts_bodies(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sb = sandbox_factory(journal_size=3, journal_body_bytes=64)
    for _ in range(5):
        assert sb.get("/v1/patients?limit=5").status_code == 200
    page = journal(sb)
    assert len(page["data"]) == 3 and page["journal_size"] == 3 and page["body_bytes"] == 64
    for entry in page["data"]:
        response = entry["response"]
        assert response["truncated"] is True and response["size"] > 64
        assert len(response["body"].encode()) <= 64


def test_filters_by_operation_status_time_and_limit(sandbox: Sandbox) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    for _ in range(3):
        sandbox.get("/v1/patients/patient_123")
    sandbox.get("/v1/patients/patient_nobody")
    got = entries(sandbox, operation="getPatient")
    assert len(got) == 4 and all(e["operation"] == "getPatient" for e in got)
    assert [e["status"] for e in entries(sandbox, operation="getPatient", status="404")] == [404]
    assert len(entries(sandbox, operation="getPatient", limit=2)) == 2
    assert journal(sandbox, operation="getPatient", limit=2)["has_more"] is True
    assert journal(sandbox, operation="getPatient", limit=1)["matched"] == 4  # limit aside
    assert journal(sandbox, operation="getPatient", status="404")["matched"] == 1
    # Newest first.
    assert got[0]["status"] == 404 and got[0]["time"] >= got[-1]["time"]
    since = before.isoformat().replace("+00:00", "Z")
    assert len(entries(sandbox, operation="getPatient", since=since)) == 4
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert entries(sandbox, since=future) == []
    bad = sandbox.get(JOURNAL, params={"status": "teapot"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "status"
    bad = sandbox.get(JOURNAL, params={"since": "2025-13-45T00:00:00Z"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "since"


def test_a_webhook_delivery_appears_in_the_same_timeline(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    hook = register(sandbox, receiver.url(), ["patient.created"])
    patient_id = create_patient(sandbox)
    receiver.wait_for(1)

    def delivered() -> list[dict]:
        return entries(sandbox, operation="webhook")

    [attempt] = wait_until(delivered)
    assert attempt["kind"] == "webhook" and attempt["status"] == 200
    assert attempt["path"] == receiver.url() and attempt["method"] == "POST"
    assert attempt["webhook"]["webhook_id"] == hook["id"]
    assert attempt["webhook"]["event_type"] == "patient.created"
    assert attempt["webhook"]["outcome"] == "succeeded" and attempt["webhook"]["attempt"] == 1
    assert patient_id in attempt["request"]["body"]
    kinds = [e["kind"] for e in entries(sandbox)]
    assert "webhook" in kinds and "request" in kinds


def test_the_journal_reads_are_counted_not_journaled_and_reset_empties_it(
    sandbox: Sandbox,
) -> None:
    first = sandbox.get(JOURNAL)
    second = sandbox.get(JOURNAL)
    remaining = [int(a.headers["x-ratelimit-remaining"]) for a in (first, second)]
    assert remaining[1] == remaining[0] - 1  # counted against the client's budget
    assert all(e["path"] != JOURNAL for e in second.json()["data"])
    sandbox.get("/v1/patients/patient_123")
    assert sandbox.post("/_sandbox/reset").status_code == 200
    assert [e["operation"] for e in entries(sandbox)] == ["resetSandbox"]
    assert sandbox.get(JOURNAL, as_client=None).status_code == 401


def test_the_stream_sends_what_came_since_then_ends(sandbox: Sandbox) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    sandbox.get("/v1/patients/patient_123")
    sandbox.get("/v1/patients?limit=1")
    query = {"since": since, "duration": 0, "operation": "getPatient"}
    answer = sandbox.get(f"{JOURNAL}/stream", params=query)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    data = [json.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: ")]
    ids = [line[4:] for line in answer.text.splitlines() if line.startswith("id: ")]
    assert [e["path"] for e in data] == ["/v1/patients/patient_123"]
    assert ids == [data[0]["id"]]
    # Reconnecting after the last id seen: only what came later.
    sandbox.get("/v1/patients/patient_123?limit=1", check=False)
    later = sandbox.get(f"{JOURNAL}/stream", params={"after": ids[0], "duration": 0}).text
    paths = [
        json.loads(line[6:])["path"] for line in later.splitlines() if line.startswith("data: ")
    ]
    assert paths == ["/v1/patients", "/v1/patients/patient_123"]


def test_no_journal_when_its_size_is_zero(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(journal_size=0)
    sb.get("/v1/patients/patient_123")
    page = journal(sb)
    assert page["data"] == [] and page["journal_size"] == 0


def test_the_journals_in_all_are_bounded_too(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(journal_clients=1)
    sb.get("/v1/patients/patient_123")
    assert entries(sb, operation="getPatient")  # read: on Redis, written from now on
    sb.get("/v1/patients/patient_123", as_client="sandbox-standard")
    assert entries(sb, as_client="sandbox-standard", operation="getPatient")
    # One journal in all: the least recently written (sandbox-enterprise's) was dropped.
    assert entries(sb, operation="getPatient") == []
