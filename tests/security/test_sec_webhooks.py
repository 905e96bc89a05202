"""Hostile webhooks: noisy neighbours, targets outside the policy, and what was lost is said.

Real receivers on loopback (one that answers, one that accepts and never
answers) against an in-process sandbox: the network between the dispatcher
and the receivers is the point.

OWASP API Security Top 10 2023:

- API4:2023 Unrestricted Resource Consumption: one client's dead receivers hold
  only that client's delivery slots (``test_one_clients_dead_receivers_...``);
  pending deliveries per client are capped (``test_past_the_pending_cap_...``);
  shutdown with 10,000 pending deliveries is bounded (``test_shutdown_with_...``).
- API7:2023 Server Side Request Forgery: a local sandbox never delivers to a public
  address, a hosted one never to a private one, IPv6 transition and mapped forms
  included; both log the attempt ``blocked`` (``test_*_policy_*``).
- API8:2023 Security Misconfiguration: the operator sees one log line per delivery
  attempt and per delivery or report abandoned at shutdown (``test_*_logged*``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest

from loopback_receiver import Receiver, SilentReceiver
from pin_mock.server.background.webhooks.dispatcher import TENANT_SLOTS
from webhook_helpers import create_patient, deliveries, drain, register, settled_log, wait_until

NOISY = "sandbox-professional"
QUIET = "sandbox-enterprise"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def silent() -> Iterator[SilentReceiver]:
    server = SilentReceiver()
    yield server
    server.close()  # attempts still hanging on it end at once


def test_one_clients_dead_receivers_do_not_delay_anothers_delivery(
    sandbox_factory, receiver: Receiver, silent: SilentReceiver
) -> None:
    # Before: one 32-slot pool; 100 dead receivers held it and a healthy delivery of
    # another client waited for their 10 s timeouts (> 100 s with retries).
    sb = sandbox_factory(webhook_timeout=30.0)
    for i in range(100):
        register(sb, silent.url(f"/dead/{i}"), ["patient.created"], as_client=NOISY)
    register(sb, receiver.url("/healthy"), ["patient.created"], as_client=QUIET)
    create_patient(sb, as_client=NOISY)  # 100 deliveries that will never be answered
    wait_until(lambda: silent.accepted() >= TENANT_SLOTS, timeout=10)

    started = time.monotonic()
    create_patient(sb, as_client=QUIET)
    receiver.wait_for(1, "/healthy", timeout=40)
    waited = time.monotonic() - started

    assert waited < 3.0, f"the healthy delivery waited {waited:.2f} s"
    assert silent.accepted() == TENANT_SLOTS  # the noisy client holds only its own share


def test_past_the_pending_cap_the_busiest_webhooks_oldest_is_dropped_and_logged(
    sandbox_factory, receiver: Receiver, silent: SilentReceiver
) -> None:
    sb = sandbox_factory(webhook_timeout=30.0, quota_pending_deliveries=5)
    dead = register(sb, silent.url(), ["patient.created"])
    healthy = register(sb, receiver.url("/healthy"), ["clinical_data.updated"])
    for _ in range(10):
        create_patient(sb)
    # 4 attempts hang on the dead receiver (its webhook's slots); of the 6 waiting
    # behind them, each new one pushed the one before it out: 5 dropped, 1 pending.
    wait_until(lambda: len(deliveries(sb, dead["id"])) == 5)
    sb.post(
        "/v1/patients/patient_123/clinical-data",
        json={"data_type": "pain_scores", "value": {"score": 2}},
    )
    receiver.wait_for(1, "/healthy", timeout=10)  # the cap never starves a healthy webhook
    assert settled_log(sb, healthy["id"], 1)[0]["status"] == "succeeded"

    dropped = [d for d in deliveries(sb, dead["id"]) if d["status"] == "not_delivered"]
    assert len(dropped) == 6  # the 6th made room for the healthy webhook's delivery
    assert all("quota_pending_deliveries" in d["error"] for d in dropped)
    assert all(d["status_code"] is None and d["next_retry_at"] is None for d in dropped)
    assert sb.http.portal.call(sb.services.webhooks.pending, QUIET) <= 5


# Memory only: on Redis a shutdown gives nothing up, the deliveries stay queued for the
# other workers or the next start (tests/server/webhooks/test_webhook_shared.py).
@pytest.mark.parametrize("sandbox_factory", ["memory"], indirect=True)
def test_shutdown_with_10000_pending_deliveries_is_bounded_and_logged_one_line_each(
    sandbox_factory, silent: SilentReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: shutdown waited for every attempt (34 s for 30,000 pending).
    sb = sandbox_factory(webhook_timeout=30.0, quota_pending_deliveries=10_000)
    hooks = [register(sb, silent.url(f"/dead/{i}"), ["patient.created"]) for i in range(100)]

    async def burst() -> None:
        for n in range(100):
            await sb.services.events.emit(
                QUIET, "patient.created", {"patient_id": f"patient_burst{n}"}
            )

    sb.http.portal.call(burst)
    wait_until(lambda: silent.accepted() >= TENANT_SLOTS, timeout=10)
    with caplog.at_level(logging.INFO, logger="pin_mock.webhooks"):
        started = time.monotonic()
        sb.http.__exit__(None, None, None)  # the lifespan stops the dispatcher
        took = time.monotonic() - started
    assert took < 10, f"shutdown took {took:.1f} s"

    # The app has stopped: read the memory engine's logs in a loop of our own.
    logs = [asyncio.run(sb.services.webhooks.log(QUIET, hook["id"])) for hook in hooks]
    log = [d for entries in logs for d in entries]
    assert len(log) == 10_000 and {d["status"] for d in log} == {"not_delivered"}
    lines = [r for r in caplog.records if r.name == "pin_mock.webhooks"]
    given_up = [r for r in lines if getattr(r, "outcome", None) == "not_delivered"]
    assert len(given_up) == 10_000 and all(r.levelno == logging.WARNING for r in given_up)
    assert {r.webhook_id for r in given_up} == {h["id"] for h in hooks}
    assert any("shutdown gave up 10000 deliveries to 100 webhooks" in r.message for r in lines)


def test_local_policy_blocks_public_targets_without_sending(sandbox_factory) -> None:
    # Before: the default delivered to any host a fuzzer invented (your-app.com, 0.com).
    sb = sandbox_factory()  # webhook_targets=local, the default
    public = register(sb, "http://93.184.215.14:9/hook", ["patient.created"])
    create_patient(sb)
    (attempt,) = settled_log(sb, public["id"], 1)
    assert attempt["status"] == "blocked"
    assert attempt["status_code"] is None and attempt["next_retry_at"] is None
    assert "webhook_targets=local" in attempt["error"]
    drain(sb)
    assert len(deliveries(sb, public["id"])) == 1  # never retried


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::ffff:127.0.0.1]",
        "[::127.0.0.1]",
        "[::ffff:0:7f00:1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
    ],
)
def test_hosted_policy_blocks_loopback_in_every_form(
    sandbox_factory, receiver: Receiver, host: str
) -> None:
    # Before: the block mode missed ::127.0.0.1, 64:ff9b::7f00:1 and 2002:7f00:1::.
    sb = sandbox_factory(webhook_targets="hosted")
    port = receiver.server.server_port
    hook = register(sb, f"http://{host}:{port}/internal", ["patient.created"])
    create_patient(sb)
    (attempt,) = settled_log(sb, hook["id"], 1)
    assert attempt["status"] == "blocked", attempt
    assert "webhook_targets=hosted" in attempt["error"]
    drain(sb)
    assert receiver.received == []


def test_every_delivery_attempt_is_logged_with_its_fields(
    sandbox_factory, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(0.0,))
    receiver.plans["/flaky"] = [500, 204]
    hook = register(sb, receiver.url("/flaky"), ["patient.created"])
    with caplog.at_level(logging.INFO, logger="pin_mock.webhooks"):
        create_patient(sb)
        log = settled_log(sb, hook["id"], 2)
        drain(sb)
    lines = [r for r in caplog.records if r.name == "pin_mock.webhooks"]
    assert [(r.attempt, r.outcome, r.status_code) for r in lines] == [
        (1, "failed", 500),
        (2, "succeeded", 204),
    ]
    for line in lines:
        assert line.levelno == logging.INFO
        assert (line.webhook_id, line.event_type) == (hook["id"], "patient.created")
        assert line.event_id == log[0]["event_id"] and line.duration_ms >= 0
        assert hook["id"] in line.getMessage() and "patient.created" in line.getMessage()


# Memory only: on Redis unfinished reports are handed back to the queue and completed
# by another worker or after the restart (tests/server/reports/test_report_jobs_shared.py).
@pytest.mark.parametrize("sandbox_factory", ["memory"], indirect=True)
def test_reports_abandoned_at_shutdown_are_logged_one_line_each(
    sandbox_factory, caplog: pytest.LogCaptureFixture
) -> None:
    sb = sandbox_factory(report_delay=60.0)
    ids = [
        sb.post("/v1/reports", json={"type": "outcomes", "format": "csv"}).json()["id"]
        for _ in range(3)
    ]
    with caplog.at_level(logging.WARNING, logger="pin_mock.reports"):
        sb.http.__exit__(None, None, None)
    lines = [r for r in caplog.records if r.name == "pin_mock.reports"]
    assert sorted(r.report_id for r in lines) == sorted(ids)
    assert all("abandoned at shutdown" in r.getMessage() for r in lines)
