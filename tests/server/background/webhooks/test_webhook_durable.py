"""Events are queued with the write they announce (Redis engine).

The handlers create through ``events.emit_with``: the step queueing the event's
deliveries runs in the create's own Lua script, so a 201
means the event is on the shared stream (read here with the dispatcher's
consumers stopped, so nothing takes it away) and a refused create queues
nothing. A full Redis refusing both (503, nothing written) is in
tests/server/state/test_unavailable.py.
"""

from __future__ import annotations

import json

import pytest
import redis

from harness import Sandbox
from loopback_receiver import Receiver
from pin_mock.server.background.webhooks.dispatcher import WebhookDispatcher
from webhook_helpers import register

pytestmark = pytest.mark.parametrize("sandbox_factory", ["redis"], indirect=True)
CLIENT = "sandbox-enterprise"
BODY = {"name": "Queued Before", "date_of_birth": "1980-05-05"}


def _stopped_dispatcher(sb: Sandbox) -> WebhookDispatcher:
    dispatcher = sb.services.deliveries
    sb.http.portal.call(dispatcher.queue.aclose)  # no consumer takes what is queued
    return dispatcher


def _queued_events(sb: Sandbox, stream: str) -> list[dict]:
    client = redis.Redis.from_url(sb.services.settings.state)
    try:
        jobs = [json.loads(fields[b"job"]) for _, fields in client.xrange(stream)]
    finally:
        client.close()
    return [json.loads(job["body"]) for job in jobs]


def test_a_201_means_the_event_is_already_on_the_queue(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory()
    dispatcher = _stopped_dispatcher(sb)
    register(sb, receiver.url("/durable"), ["patient.created", "clinical_data.updated"])
    created = sb.post("/v1/patients", json=BODY, as_client=CLIENT)
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    # Read right after the 201, with no consumer running: the event is there already.
    events = _queued_events(sb, dispatcher.queue.stream)
    assert [(e["type"], e["data"]["patient_id"]) for e in events] == [
        ("patient.created", patient_id)
    ]
    entry = sb.post(
        f"/v1/patients/{patient_id}/clinical-data",
        json={"data_type": "vitals", "value": {"name": "heart_rate", "value": 61, "unit": "/min"}},
        as_client=CLIENT,
    )
    assert entry.status_code == 201, entry.text
    events = _queued_events(sb, dispatcher.queue.stream)
    assert [e["type"] for e in events] == ["patient.created", "clinical_data.updated"]
    assert events[1]["data"]["entry_id"] == entry.json()["id"]


def test_a_refused_create_queues_no_event(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory(quota_patients=1)
    dispatcher = _stopped_dispatcher(sb)
    register(sb, receiver.url("/durable"), ["patient.created", "clinical_data.updated"])
    assert sb.post("/v1/patients", json=BODY, as_client=CLIENT).status_code == 201
    full = sb.post("/v1/patients", json=BODY, as_client=CLIENT)
    assert full.status_code == 409, full.text  # the quota, checked in the same script
    unknown = sb.post(
        "/v1/patients/patient_000000000000/clinical-data",
        json={"data_type": "vitals", "value": {"name": "heart_rate", "value": 61, "unit": "/min"}},
        as_client=CLIENT,
    )
    assert unknown.status_code == 404, unknown.text
    assert [e["type"] for e in _queued_events(sb, dispatcher.queue.stream)] == ["patient.created"]


def test_the_deliveries_are_queued_even_if_the_stream_is_not_read(
    sandbox_factory, receiver: Receiver
) -> None:
    # Several webhooks, one event: all of its messages are on the stream with the 201.
    sb = sandbox_factory()
    dispatcher = _stopped_dispatcher(sb)
    hooks = [register(sb, receiver.url(f"/d{n}"), ["patient.created"]) for n in range(3)]
    created = sb.post("/v1/patients", json=BODY, as_client=CLIENT)
    assert created.status_code == 201
    client = redis.Redis.from_url(sb.services.settings.state)
    try:
        jobs = [json.loads(f[b"job"]) for _, f in client.xrange(dispatcher.queue.stream)]
    finally:
        client.close()
    assert sorted(job["m"].split("|")[2] for job in jobs) == sorted(h["id"] for h in hooks)
    assert {json.loads(job["body"])["id"] for job in jobs} == {jobs[0]["m"].split("|")[0]}
