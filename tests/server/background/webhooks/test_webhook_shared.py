"""Webhook deliveries on Redis, with two sandboxes on one database standing for two
workers: each event is delivered once, a pending retry survives a restart and keeps its
schedule, the pending quota and the client's slots hold across workers, an attempt run
twice is logged once."""

from __future__ import annotations

import json

import pytest
import redis

from harness import Sandbox
from loopback_receiver import Receiver
from pin_mock.server.background.webhooks.dispatcher import TENANT_SLOTS, WEBHOOK_SLOTS
from pin_mock.server.domain.webhooks.deliveries import Message, Outcome, entry
from pin_mock.server.state.ports import EventDeliveries
from pin_mock.server.state.redis.slots import RedisSlots
from webhook_helpers import create_patient, deliveries, drain, register, settled_log, wait_until

pytestmark = pytest.mark.parametrize("sandbox_factory", ["redis"], indirect=True)
CLIENT = "sandbox-enterprise"


def _pending(sb: Sandbox) -> int:
    return sb.http.portal.call(sb.services.webhooks.pending, CLIENT)


def test_two_workers_deliver_each_event_once(sandbox_factory, receiver: Receiver) -> None:
    a, b = sandbox_factory(), sandbox_factory()
    hook = register(a, receiver.url("/once"), ["patient.created", "report.completed"])
    for sb in (a, b, a, b, a, b):
        create_patient(sb)
    report = a.post("/v1/reports", json={"type": "outcomes", "format": "csv"}).json()
    receiver.wait_for(7, "/once")
    for sb in (a, b):
        drain(sb)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 7  # one request per event, whoever sent it
    events = [json.loads(r.body) for r in receiver.received]
    assert sorted(e["type"] for e in events) == ["patient.created"] * 6 + ["report.completed"]
    assert report["id"] in {e["data"].get("report_id") for e in events}
    log = deliveries(b, hook["id"])
    assert len(log) == 7 and {d["status"] for d in log} == {"succeeded"}
    assert _pending(a) == 0


def test_a_pending_retry_is_delivered_after_a_restart(sandbox_factory, receiver: Receiver) -> None:
    schedule = {"webhook_retry_schedule": (1.0,)}
    before = sandbox_factory(**schedule)
    receiver.plans["/later"] = [500, 200]
    hook = register(before, receiver.url("/later"), ["patient.created"])
    create_patient(before)
    first = wait_until(lambda: deliveries(before, hook["id"]))
    before.http.__exit__(None, None, None)  # stops while the retry waits

    after = sandbox_factory(**schedule)
    log = settled_log(after, hook["id"], 2)
    assert [(d["attempt"], d["status"]) for d in log] == [(1, "failed"), (2, "succeeded")]
    assert log[1]["attempted_at"] >= first[0]["next_retry_at"]  # kept its schedule
    assert len({d["event_id"] for d in log}) == 1
    assert _pending(after) == 0


def test_the_pending_quota_is_shared_and_drops_the_oldest_of_the_busiest(
    sandbox_factory, receiver: Receiver
) -> None:
    settings = {"webhook_retry_schedule": (60.0,), "quota_pending_deliveries": 2}
    a, b = sandbox_factory(**settings), sandbox_factory(**settings)
    receiver.plans["/down"] = [500]
    hook = register(a, receiver.url("/down"), ["patient.created"])
    for logged, sb in ((1, a), (2, b), (4, a)):  # the third event also drops the first
        create_patient(sb)
        # Each event's first attempt fails and its retry waits a minute.
        log = wait_until(lambda n=logged: len(found := deliveries(a, hook["id"])) >= n and found)
    assert _pending(b) == 2
    dropped = [d for d in log if d["status"] == "not_delivered"]
    assert len(dropped) == 1 and "quota_pending_deliveries" in dropped[0]["error"]
    assert dropped[0]["event_id"] == log[0]["event_id"]  # the oldest went first


def test_a_clients_slots_are_shared_by_every_worker(sandbox_factory, receiver: Receiver) -> None:
    a, b = sandbox_factory(), sandbox_factory()
    hooks = TENANT_SLOTS * 3
    for _ in range(hooks):
        register(a, receiver.url(), ["patient.created"])
    receiver.pause = 0.05
    create_patient(b)
    assert len(receiver.wait_for(hooks)) == hooks
    for sb in (a, b):
        drain(sb)
    assert 1 < receiver.most_in_flight <= TENANT_SLOTS  # not TENANT_SLOTS per worker


def test_an_attempt_recorded_twice_is_logged_once(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory()
    hook = register(sb, receiver.url(), ["patient.created"])
    store = sb.services.webhooks
    queue = sb.services.deliveries.queue
    member = f"msg_1|patient.created|{hook['id']}"
    call = sb.http.portal.call
    call(queue.aclose)  # nobody reads the delivery stream, so this test alone records
    queued = EventDeliveries(CLIENT, [(member, {"client_id": CLIENT, "m": member, "a": 1})], 10)
    call(store.enqueue, queued)
    assert queued.given_up == []
    message = Message(CLIENT, hook["id"], hook["url"], "", "msg_1", "patient.created", b"{}")
    at = "2026-01-01T00:00:00.000Z"
    outcome = Outcome(500, "HTTP 500")
    line = entry("dlv_1", message, 1, "failed", outcome, 1.0, at, at, None)

    retry = (1.0, {"client_id": CLIENT, "m": member, "a": 2})

    def record() -> bool:
        return call(lambda: store.record(CLIENT, hook["id"], member, 1, line, retry=retry))

    assert (record(), record()) == (True, False)
    assert len(deliveries(sb, hook["id"])) == 1
    assert call(store.due_and_webhook, CLIENT, member, hook["id"])[0] == 2
    with redis.Redis.from_url(sb.settings.state) as client:
        assert client.zcard(queue.retries) == 1  # its retry scheduled once too


def test_a_reset_removes_webhooks_logs_reports_and_pending_deliveries(
    sandbox_factory, receiver: Receiver
) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(60.0,))
    receiver.plans["/down"] = [500]
    hook = register(sb, receiver.url("/down"), ["patient.created"])
    create_patient(sb)
    wait_until(lambda: deliveries(sb, hook["id"]))  # attempt 1 failed, a retry waits
    report = sb.post("/v1/reports", json={"type": "outcomes", "format": "csv"}).json()
    wait_until(lambda: sb.get(report["links"]["self"]).json()["status"] == "completed")

    removed = sb.post("/_sandbox/reset").json()["removed"]
    assert (removed["reports"], removed["webhooks"]) == (1, 1)
    client = redis.Redis.from_url(sb.settings.state)
    with client:
        left = list(client.scan_iter(match=f"pin:t:{CLIENT}:*"))
    assert left == []  # logs, files, orders, pending: nothing of the tenant is left
    assert _pending(sb) == 0
    assert sb.get("/v1/webhooks").json()["data"] == []
    assert sb.get(report["links"]["self"]).status_code == 404


def test_a_slot_held_by_a_dead_worker_is_freed_when_its_lease_ends(sandbox_factory) -> None:
    sb = sandbox_factory()
    slots = RedisSlots(
        sb.services.deliveries.queue.redis,
        "pin:slots:test",
        "pin:test:stream",
        lease=0.3,
        group_slots=WEBHOOK_SLOTS,
        client_slots=TENANT_SLOTS,
    )
    call = sb.http.portal.call
    for n in range(WEBHOOK_SLOTS):  # held by a worker that dies: never released
        assert call(slots.acquire, CLIENT, "wh_1", f"lease{n}", {"client_id": CLIENT, "n": n})
    parked = {"client_id": CLIENT, "parked": True}
    assert not call(slots.acquire, CLIENT, "wh_1", "late", parked)  # parked
    assert call(slots.parked)
    wait_until(lambda: call(slots.sweep) == 1)  # once the leases have ended
    with redis.Redis.from_url(sb.settings.state) as client:
        woken = client.xrange("pin:test:stream")
    assert [json.loads(fields[b"job"]) for _, fields in woken] == [parked]
    assert not call(slots.parked)
