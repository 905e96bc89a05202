"""Events are queued before the client is answered (Redis engine).

``services.emit`` is awaited by the handlers, and the Redis dispatcher queues
the deliveries inside that await: a 201 means the event is on the shared
stream (read here with the dispatcher's consumers stopped, so nothing takes it
away), and an event that cannot be queued turns the request into the 503
envelope instead of being lost after the answer.
"""

from __future__ import annotations

import json

import pytest
import redis
from loopback_receiver import Receiver
from webhook_helpers import register

from harness import Sandbox
from pin_mock.server.webhooks.dispatcher import dispatcher_of
from pin_mock.server.webhooks.shared import SharedDispatcher

pytestmark = pytest.mark.parametrize("sandbox_factory", ["redis"], indirect=True)
CLIENT = "sandbox-enterprise"
BODY = {"name": "Queued Before", "date_of_birth": "1980-05-05"}


def _stopped_dispatcher(sb: Sandbox) -> SharedDispatcher:
    dispatcher = dispatcher_of(sb.services)
    assert isinstance(dispatcher, SharedDispatcher)
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


def test_an_event_that_cannot_be_queued_is_a_503_not_a_lost_event(
    sandbox_factory, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = sandbox_factory()
    dispatcher = _stopped_dispatcher(sb)
    register(sb, receiver.url("/durable"), ["patient.created"])

    async def lost(*args: object, **kwargs: object) -> None:
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(dispatcher.hooks, "enqueue", lost)
    refused = sb.post("/v1/patients", json=BODY, as_client=CLIENT)
    assert refused.status_code == 503, refused.text  # checked against the spec's 503
    assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(refused.headers["Retry-After"]) >= 1
    assert _queued_events(sb, dispatcher.queue.stream) == []
    monkeypatch.undo()
    retried = sb.post("/v1/patients", json=BODY, as_client=CLIENT)  # Redis back: the retry
    assert retried.status_code == 201
    events = _queued_events(sb, dispatcher.queue.stream)
    assert [e["data"]["patient_id"] for e in events] == [retried.json()["id"]]
