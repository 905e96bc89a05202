"""Webhooks end to end: the kit receives what the target delivers, and judges it.

The kit's receiver (``receiver.py``) runs for the whole run when the target
is local, or at ``--webhook-receiver-url`` for a remote target (else the probe
is skipped with a note: a remote target cannot reach the kit's loopback). The
probe registers a webhook for every event (the spec's documented body, its
``url`` the receiver), triggers each event it can (a patient, an entry, a
report; the spec's documented bodies), and judges each delivery
(``deliveries.py``): it arrives within the bound, verifies, matches the spec's
``callbacks``, agrees with itself, and is in the delivery log as the receiver
answered it. A second webhook's receiver answers 500 once: the target must
retry and log both attempts under one event id. Once deleted, a webhook gets
nothing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from pin_mock.contract.probes.deliveries import (
    CONSISTENCY,
    DELIVERY,
    LOG,
    callback_schemas,
    judge_delivery,
    judge_log,
    payload,
)
from pin_mock.contract.probes.framework import Probe, ProbeContext, ProbeSkip, body_of
from pin_mock.contract.probes.state import entry_body, patient_body
from pin_mock.contract.receiver import Receiver

#: After a webhook is deleted, how long the probe watches for stray deliveries.
QUIET_WATCH = 3.0
#: How long a delivery may take to appear in the delivery log after it arrived (generous:
#: a loaded CI machine must not turn a slow log into a finding).
LOG_WAIT = 30.0


def is_local(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def receiver_for(ctx: ProbeContext) -> Iterator[tuple[Receiver, str]]:
    """The run's receiver and where the target reaches it (one started here if the run has none)."""
    if ctx.receiver is not None and ctx.receiver_base is not None:
        yield ctx.receiver, ctx.receiver_base
        return
    if ctx.receiver_url is None and not is_local(ctx.target.base_url):
        raise ProbeSkip(
            "a remote target cannot reach the kit's loopback receiver: give --webhook-receiver-url"
        )
    host, _, port = (ctx.receiver_bind or "127.0.0.1:0").rpartition(":")
    with Receiver(host or "127.0.0.1", int(port or 0)) as receiver:
        yield receiver, (ctx.receiver_url or "http://{}:{}".format(*receiver.address)).rstrip("/")


def _register(ctx: ProbeContext, url: str, events: list[str]) -> tuple[str, str]:
    body = ctx.body(
        "createWebhook", url=url, events=events, description=f"pin-contract {ctx.run_id}"
    )
    ex = ctx.call("createWebhook", json=body)
    ctx.require(ex.status == 201, DELIVERY, f"POST {ex.path} answered {ex.status}", ex)
    return str(body_of(ex).get("id", "")), str(body_of(ex).get("secret", ""))


def _triggers(ctx: ProbeContext) -> dict[str, str]:
    """Cause each event the run's client can; event type -> the id of what it created."""
    done: dict[str, str] = {}
    if not ctx.lacking(["createPatient"]) and ctx.operation("createPatient"):
        ex = ctx.call("createPatient", json=patient_body(ctx, "Hook"))
        pid = str(body_of(ex).get("id", ""))
        done["patient.created"] = pid
        if not ctx.lacking(["addClinicalData"]) and ctx.operation("addClinicalData") and pid:
            ex = ctx.call("addClinicalData", {"patient_id": pid}, json=entry_body(ctx))
            done["clinical_data.updated"] = str(body_of(ex).get("id", ""))
    if not ctx.lacking(["createReport"]) and ctx.operation("createReport"):
        ex = ctx.call("createReport", json=ctx.body("createReport"))
        done["report.completed"] = str(body_of(ex).get("id", ""))
    return done


def _log(ctx: ProbeContext, wid: str, until: Any = None) -> list[dict[str, Any]]:
    """The webhook's delivery log, polled until ``until(log)`` holds (a log entry is written
    once the attempt is over, a moment after the receiver has answered)."""
    deadline = time.monotonic() + LOG_WAIT
    while True:
        ex = ctx.call("listDeliveries", {"webhook_id": wid}, params={"limit": 100})
        ctx.expect(
            ex.status == 200, DELIVERY, f"the delivery log {ex.path} answered {ex.status}", ex
        )
        log = [d for d in body_of(ex).get("data") or [] if isinstance(d, dict)]
        if ex.status != 200 or until is None or until(log) or time.monotonic() > deadline:
            return log
        time.sleep(0.2)


def _created_ids(ctx: ProbeContext, triggered: dict[str, str]) -> set[str]:
    ids = set(triggered.values())
    if ctx.target.ledger is not None:
        ids |= {c.path.rsplit("/", 1)[-1] for c in ctx.target.ledger.created}
        ids |= {part for c in ctx.target.ledger.created for part in c.path.split("/")}
    return ids


def webhooks_end_to_end(ctx: ProbeContext) -> None:
    with receiver_for(ctx) as (receiver, base):
        _run(ctx, receiver, base)


def _run(ctx: ProbeContext, receiver: Receiver, base: str) -> None:
    create = ctx.op("createWebhook")
    events = list(ctx.spec.body_enum(create, "events")) or list(
        ctx.body("createWebhook").get("events") or []
    )
    main_path, retry_path = f"/pin-contract/{ctx.run_id}/all", f"/pin-contract/{ctx.run_id}/retry"
    receiver.watch(main_path, retry_path)
    wid, secret = _register(ctx, base + main_path, events)
    first_event = events[0] if events else "patient.created"
    retry_event = "patient.created" if "patient.created" in events else first_event
    retry_id, _ = _register(ctx, base + retry_path, [retry_event])
    receiver.fail_first(retry_path, 1)
    schemas = callback_schemas(ctx.spec)
    triggered = _triggers(ctx)
    wanted = set(triggered)
    arrived = receiver.wait_for(
        lambda ds: wanted <= {payload(d).get("type") for d in ds if d.path == main_path},
        ctx.webhook_wait,
    )
    got = {str(payload(d).get("type")) for d in receiver.to(main_path)}
    ctx.expect(arrived, DELIVERY, f"within {ctx.webhook_wait:.0f} s, events {sorted(wanted - got)} were not delivered",
               None, operation="webhook delivery")  # fmt: skip
    created = _created_ids(ctx, triggered)
    # One snapshot of what arrived is judged throughout: more may arrive while the log is
    # read (an earlier probe's report completing, a late retry), and a delivery the
    # receiver saw after the log was read cannot be held against the log.
    seen = receiver.to(main_path)
    for d in seen:
        judge_delivery(ctx, d, secret, schemas, set(events), created)
    ids = {d.headers.get("webhook-id") for d in seen}
    log = _log(ctx, wid, lambda log: ids <= {str(d.get("event_id")) for d in log})
    logged = {str(d.get("event_id")) for d in log}
    label = f"GET {ctx.op('listDeliveries').path}"
    for d in seen:
        ctx.expect(d.headers.get("webhook-id") in logged, DELIVERY,
                   f"delivery {d.headers.get('webhook-id')} is not in the delivery log of {wid} "
                   f"within {LOG_WAIT:.0f} s of its arrival", None, operation=label)  # fmt: skip
    judge_log(ctx, log, seen, label)
    if retry_event in triggered:
        retried = receiver.wait_for(
            lambda ds: len([d for d in ds if d.path == retry_path]) >= 2, ctx.webhook_wait
        )
        ctx.expect(retried, DELIVERY, f"no retry within {ctx.webhook_wait:.0f} s after the receiver answered 500",
                   None, operation="webhook delivery")  # fmt: skip
        if retried:
            first, second = receiver.to(retry_path)[:2]
            ctx.expect(first.headers.get("webhook-id") == second.headers.get("webhook-id"), DELIVERY,
                       "a retry carries a different webhook-id from the first attempt", None,
                       operation="webhook delivery")  # fmt: skip
            # The attempts of the retried event (another event may reach this webhook too).
            event = first.headers.get("webhook-id")

            def of_event(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
                return [d for d in log if str(d.get("event_id")) == event]

            log = _log(ctx, retry_id, lambda log: len(of_event(log)) >= 2)
            attempts = sorted(int(d.get("attempt", 0)) for d in of_event(log))
            ctx.expect(attempts[:2] == [1, 2], DELIVERY,
                       f"the delivery log of {retry_id} records attempts {attempts} of {event}, not 1 and 2",
                       None, operation=label)  # fmt: skip
            judge_log(ctx, log, receiver.to(retry_path), label)
    for hook in (wid, retry_id):
        ctx.call("deleteWebhook", {"webhook_id": hook})
    before = len(receiver.to(main_path))
    if triggered:
        _triggers(ctx)
        time.sleep(QUIET_WATCH)
        ctx.expect(len(receiver.to(main_path)) == before, DELIVERY,
                   f"a deleted webhook {wid} still received {len(receiver.to(main_path)) - before} deliveries",
                   None, operation="webhook delivery")  # fmt: skip


WEBHOOK_PROBES = [
    Probe("webhooks end to end: delivered, signed, consistent, retried, logged, stopped",
          ("createWebhook", "listDeliveries", "deleteWebhook"), webhooks_end_to_end,
          (DELIVERY, CONSISTENCY, LOG)),
]  # fmt: skip
