"""Webhook deliveries to a receiver on loopback: routing, retries, the log, shutdown, bursts."""

from __future__ import annotations

import asyncio
import time

from harness import Sandbox
from loopback_receiver import Receiver
from pin_mock.server.background.webhooks.attempts import NO_ANSWER
from pin_mock.server.background.webhooks.dispatcher import TENANT_SLOTS
from webhook_helpers import (
    FAST,
    create_patient,
    deliveries,
    drain,
    register,
    settled_log,
    verify,
    wait_until,
)


def test_events_go_only_to_the_owners_subscribed_webhooks(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    register(sandbox, receiver.url("/mine"), ["clinical_data.updated"])
    theirs = register(sandbox, receiver.url("/theirs"), ["patient.created"], "sandbox-standard")
    create_patient(sandbox)  # mine is not subscribed; theirs is another client's
    create_patient(sandbox, as_client="sandbox-standard")
    receiver.wait_for(1, "/theirs")
    drain(sandbox)
    assert [r.path for r in receiver.received] == ["/theirs"]
    assert len(deliveries(sandbox, theirs["id"], as_client="sandbox-standard")) == 1


def test_fails_twice_then_succeeds_in_three_attempts_with_one_event_id(
    sandbox_factory, receiver: Receiver
) -> None:
    # The default-like schedule compressed by the factor: 1 s -> 10 ms, 2 s -> 20 ms.
    sb = sandbox_factory(webhook_retry_schedule=(1.0, 2.0, 4.0), webhook_retry_factor=0.01)
    receiver.plans["/flaky"] = [500, 503, 200]
    hook = register(sb, receiver.url("/flaky"), ["patient.created"])
    create_patient(sb)

    log = settled_log(sb, hook["id"], 3)
    assert [(d["attempt"], d["status"], d["status_code"]) for d in log] == [
        (1, "failed", 500),
        (2, "failed", 503),
        (3, "succeeded", 200),
    ]
    assert len({d["event_id"] for d in log}) == 1
    assert log[0]["error"].startswith("HTTP 500") and log[2]["error"] is None
    assert log[0]["next_retry_at"] is not None and log[1]["next_retry_at"] is not None
    requests = receiver.wait_for(3, "/flaky")
    assert {r.headers["webhook-id"] for r in requests} == {log[0]["event_id"]}
    for request in requests:
        verify(hook["secret"], request)  # a fresh signature per attempt


def test_a_receiver_that_never_succeeds_ends_failed(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory(**FAST)
    receiver.plans["/down"] = [500]
    hook = register(sb, receiver.url("/down"), ["patient.created"])
    create_patient(sb)

    log = settled_log(sb, hook["id"], 4)
    assert [d["attempt"] for d in log] == [1, 2, 3, 4]  # 1 + len(schedule)
    assert all(d["status"] == "failed" and d["status_code"] == 500 for d in log)
    assert [d["next_retry_at"] is None for d in log] == [False, False, False, True]
    drain(sb)
    assert len(receiver.received) == 4


def test_no_answer_is_retried_and_logged_with_the_error(
    sandbox_factory, receiver: Receiver
) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(0.0,), webhook_timeout=0.2)
    closed = Receiver()
    url = closed.url("/gone")
    closed.close()  # nothing listens there any more
    refused = register(sb, url, ["patient.created"])
    receiver.pause = 1.0
    slow = register(sb, receiver.url("/slow"), ["patient.created"])
    create_patient(sb)

    for hook in (refused, slow):
        log = settled_log(sb, hook["id"], 2)
        assert [(d["attempt"], d["status"], d["status_code"]) for d in log] == [
            (1, "failed", None),
            (2, "failed", None),
        ]
        # The same words for both: the log must not map open ports (tests/security).
        assert log[0]["error"] == NO_ANSWER
    receiver.pause = 0.0


def test_redirects_are_failures_and_not_followed(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory(webhook_retry_schedule=())
    receiver.plans["/moved"] = [302]
    hook = register(sb, receiver.url("/moved"), ["patient.created"])
    create_patient(sb)
    log = settled_log(sb, hook["id"], 1)
    assert (log[0]["status"], log[0]["status_code"]) == ("failed", 302)
    assert "redirect" in log[0]["error"]
    drain(sb)
    assert [r.path for r in receiver.received] == ["/moved"]


def test_a_removed_webhook_gets_no_more_retries(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(0.2, 0.2))
    receiver.plans["/bye"] = [500]
    hook = register(sb, receiver.url("/bye"), ["patient.created"])
    create_patient(sb)
    wait_until(lambda: deliveries(sb, hook["id"]))
    assert sb.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
    drain(sb)
    assert len(receiver.received) == 1


def test_shutdown_finishes_attempts_in_flight_and_logs_pending_retries(
    sandbox_factory, receiver: Receiver
) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(60.0,))
    receiver.plans["/retry-later"] = [500]
    waiting = register(sb, receiver.url("/retry-later"), ["patient.created"])
    create_patient(sb)
    wait_until(lambda: deliveries(sb, waiting["id"]))  # attempt 1 failed; retry in 60 s

    in_flight = register(sb, receiver.url("/slow"), ["clinical_data.updated"])
    receiver.pause = 0.3
    sb.post(
        "/v1/patients/patient_123/clinical-data",
        json={"data_type": "pain_scores", "value": {"score": 3}},
    )
    receiver.wait_for(1, "/slow")  # the attempt is under way
    started = time.monotonic()
    sb.http.__exit__(None, None, None)  # the lifespan stops the workers
    assert time.monotonic() - started < 5

    if sb.engine == "memory":
        # In memory a pending retry dies with the process: it is logged as given up.
        # (The app has stopped: its logs are read in a loop of our own.)
        def log(hook: dict) -> list[dict]:
            return asyncio.run(sb.services.webhooks.log("sandbox-enterprise", hook["id"]))

        assert [(d["attempt"], d["status"]) for d in log(waiting)] == [
            (1, "failed"),
            (2, "not_delivered"),
        ]
        assert [(d["status"], d["status_code"]) for d in log(in_flight)] == [("succeeded", 200)]
        return
    # On Redis it stays pending, for the other workers or the next start (test_webhook_shared).
    after = sandbox_factory(webhook_retry_schedule=(60.0,))
    assert [(d["attempt"], d["status"]) for d in deliveries(after, waiting["id"])] == [
        (1, "failed")
    ]
    assert [(d["status"], d["status_code"]) for d in deliveries(after, in_flight["id"])] == [
        ("succeeded", 200)
    ]
    hooks = after.services.webhooks
    assert after.http.portal.call(hooks.pending, "sandbox-enterprise") == 1


def test_a_burst_of_deliveries_is_bounded_to_the_clients_slots_and_all_arrive(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    hooks = TENANT_SLOTS * 5
    for _ in range(hooks):
        sandbox.post("/v1/webhooks", json={"url": receiver.url(), "events": ["patient.created"]})
    receiver.pause = 0.05
    create_patient(sandbox)
    assert len(receiver.wait_for(hooks)) == hooks
    drain(sandbox)
    assert 1 < receiver.most_in_flight <= TENANT_SLOTS


def test_a_reserved_name_is_not_delivered_without_a_lookup_or_a_retry(sandbox: Sandbox) -> None:
    # RFC 6761 names never resolve (issue 21): no DNS query, no retry, ``not_delivered``.
    hook = register(sandbox, "https://hooks.invalid/webhook", ["patient.created"])
    create_patient(sandbox)
    log = settled_log(sandbox, hook["id"], 1)
    assert [(d["attempt"], d["status"], d["status_code"]) for d in log] == [
        (1, "not_delivered", None)
    ]
    assert "reserved name (RFC 6761)" in log[0]["error"]
    assert log[0]["next_retry_at"] is None
