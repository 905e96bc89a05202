"""Webhook signatures: real deliveries verify with Standard Webhooks and the README receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft4Validator
from standardwebhooks import Webhook, WebhookVerificationError

from harness import Sandbox
from loopback_receiver import Receiver
from pin_mock.server.domain.reports.documents import FAILING_PATIENT_ID
from spec_conformance import spec
from webhook_helpers import (
    ALL_EVENTS,
    create_patient,
    listening,
    register,
    settled_log,
    verify,
    wait_until,
)

EVENT_SCHEMAS = {
    "patient.created": "PatientCreatedEvent",
    "clinical_data.updated": "ClinicalDataUpdatedEvent",
    "report.completed": "ReportEvent",
    "report.failed": "ReportEvent",
}


def test_every_event_arrives_signed_and_verifies(sandbox: Sandbox, receiver: Receiver) -> None:
    hook = register(sandbox, receiver.url(), ALL_EVENTS)
    patient_id = create_patient(sandbox)
    entry = sandbox.post(
        f"/v1/patients/{patient_id}/clinical-data",
        json={"data_type": "pain_scores", "value": {"score": 6}},
    ).json()
    done = sandbox.post("/v1/reports", json={"type": "outcomes", "format": "json"}).json()
    broken = sandbox.post(
        "/v1/reports",
        json={
            "type": "outcomes",
            "format": "csv",
            "parameters": {"patient_id": FAILING_PATIENT_ID},
        },
    ).json()

    arrived = receiver.wait_for(4)
    events = {}
    for request in arrived:
        event = verify(hook["secret"], request)
        assert event["id"] == request.headers["webhook-id"]
        assert request.headers["content-type"] == "application/json"
        schema = spec()["components"]["schemas"][EVENT_SCHEMAS[event["type"]]]
        assert not list(Draft4Validator(schema).iter_errors(event)), event
        events[event["type"]] = event
    assert set(events) == set(ALL_EVENTS)
    assert events["patient.created"]["data"] == {
        "patient_id": patient_id,
        "links": {"self": f"/v1/patients/{patient_id}"},
    }
    assert events["clinical_data.updated"]["data"]["entry_id"] == entry["id"]
    assert events["report.completed"]["data"]["report_id"] == done["id"]
    assert events["report.completed"]["data"]["status"] == "completed"
    assert events["report.failed"]["data"] == {
        "report_id": broken["id"],
        "status": "failed",
        "links": broken["links"],
    }
    # A wrong secret does not verify: the check above is not vacuous.
    with pytest.raises(WebhookVerificationError):
        Webhook(base64.b64encode(b"x" * 24).decode()).verify(arrived[0].body, arrived[0].headers)

    log = settled_log(sandbox, hook["id"], 4)
    assert {d["event_type"] for d in log} == set(ALL_EVENTS)
    assert all(d["status"] == "succeeded" and d["status_code"] == 200 for d in log)
    assert {d["event_id"] for d in log} == {e["id"] for e in events.values()}
    assert all(d["attempt"] == 1 and d["duration_ms"] >= 0 for d in log)


def test_delivery_body_is_the_signed_bytes(sandbox: Sandbox, receiver: Receiver) -> None:
    hook = register(sandbox, receiver.url(), ["patient.created"])
    create_patient(sandbox)
    (request,) = receiver.wait_for(1)
    event = orjson.loads(request.body)
    assert set(event) == {"id", "type", "created_at", "data"}
    timestamp = int(request.headers["webhook-timestamp"])
    assert abs(timestamp - time.time()) < 60
    signed = f"{event['id']}.{timestamp}.".encode() + request.body
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == f"v1,{expected}"


def test_the_readme_receiver_verifies_a_real_delivery(sandbox: Sandbox, tmp_path) -> None:
    """docs/receiver.py, as the README runs it, accepts the sandbox's signed delivery."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    created = sandbox.post(
        "/v1/webhooks",
        json={"url": f"http://127.0.0.1:{port}/hook", "events": ["patient.created"]},
    ).json()
    script = Path(__file__).parents[4] / "docs" / "receiver.py"
    log = (tmp_path / "receiver.out").open("w+")
    receiver = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        env={**os.environ, "WEBHOOK_SECRET": created["secret"]},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: listening(port))
        patient_id = create_patient(sandbox)
        attempt = settled_log(sandbox, created["id"], 1)[-1]
        assert attempt["status_code"] == 204, attempt  # 400 would mean a bad signature
    finally:
        receiver.terminate()
        receiver.wait(timeout=5)
    log.seek(0)
    assert f"patient.created {{'patient_id': '{patient_id}'" in log.read()
