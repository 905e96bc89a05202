"""A sandbox reset cancels the client's pending deliveries and scheduled retries, on both
engines: after it, nothing more of the client's reaches a receiver, and nothing of it is
left queued, scheduled or parked (issue 21: a sandbox kept retrying deliveries of removed
webhooks after a reset)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from harness import Sandbox
from loopback_receiver import Receiver, SilentReceiver
from pin_mock.server.background.webhooks.dispatcher import TENANT_SLOTS
from webhook_helpers import create_patient, deliveries, register, settled_log, wait_until

CLIENT = "sandbox-enterprise"
#: A bound on the drain after a reset: the retries wait minutes, so only a cancel is this fast.
DRAINED_WITHIN = 10.0


@pytest.fixture
def silent() -> Iterator[SilentReceiver]:
    server = SilentReceiver()
    yield server
    server.close()


def _pending(sb: Sandbox) -> int:
    return sb.http.portal.call(sb.services.webhooks.pending, CLIENT)


def _drained(sb: Sandbox) -> None:
    """Wait until no delivery is queued, scheduled, parked or under way; fail if it takes
    longer than ``DRAINED_WITHIN`` (a retry still scheduled would hold it for minutes)."""

    async def drain() -> None:
        await asyncio.wait_for(sb.services.deliveries.drain(), DRAINED_WITHIN)

    sb.http.portal.call(drain)


def test_a_reset_cancels_the_scheduled_retries(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(120.0, 120.0))
    receiver.plans["/down"] = [500]
    hook = register(sb, receiver.url("/down"), ["patient.created"])
    for _ in range(3):
        create_patient(sb)
    # Each event's first attempt failed; its retry waits two minutes.
    wait_until(lambda: len(deliveries(sb, hook["id"])) == 3)
    assert _pending(sb) == 3

    reset = sb.post("/_sandbox/reset")
    assert reset.status_code == 200 and reset.json()["removed"]["webhooks"] == 1
    assert _pending(sb) == 0
    _drained(sb)  # nothing of the client is scheduled any more
    assert len(receiver.received) == 3  # the first attempts only

    # The client starts again from nothing, and its new webhook is delivered to.
    receiver.plans["/up"] = [200]
    again = register(sb, receiver.url("/up"), ["patient.created"])
    create_patient(sb)
    assert settled_log(sb, again["id"], 1)[0]["status"] == "succeeded"
    assert [r.path for r in receiver.received].count("/up") == 1


def test_a_reset_cancels_deliveries_waiting_for_a_slot(
    sandbox_factory, silent: SilentReceiver
) -> None:
    sb = sandbox_factory(webhook_timeout=1.0, webhook_retry_schedule=())
    hooks = TENANT_SLOTS * 3
    for n in range(hooks):
        register(sb, silent.url(f"/dead/{n}"), ["patient.created"])
    create_patient(sb)  # one delivery per webhook: TENANT_SLOTS on the wire, the rest wait
    wait_until(lambda: silent.accepted() >= TENANT_SLOTS, timeout=10)
    assert _pending(sb) == hooks

    assert sb.post("/_sandbox/reset").status_code == 200
    _drained(sb)  # the attempts on the wire time out; the waiting ones are never made
    assert silent.accepted() == TENANT_SLOTS
    assert _pending(sb) == 0
