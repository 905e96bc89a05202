"""Webhooks end to end: the kit receives what the target delivers, and judges it.

The kit runs a receiver (``receiver.py``) on loopback when the target is local,
or at ``--webhook-receiver-url`` for a remote target (else the probe is skipped
with a note: a remote target cannot reach the kit's loopback). It registers a
webhook for every event, triggers each event it can (a patient, an entry, a
report), and checks for each: a delivery within the bound, a Standard Webhooks
signature that verifies with the returned secret (``standardwebhooks``), a body
valid against the spec's ``callbacks`` for that event, and a delivery log entry
per attempt. A second webhook's receiver answers 500 once: the target must retry
and log both attempts under one event id. Once deleted, a webhook gets nothing.
"""

from __future__ import annotations

import ipaddress
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from pin_mock.contract.probes.framework import Probe, ProbeContext, ProbeSkip, body_of
from pin_mock.contract.probes.state import ENTRY_TYPE, RECORDED_AT
from pin_mock.contract.receiver import Delivery, Receiver
from pin_mock.contract.spec import Spec, resolve

DELIVERY = "pin_webhook_delivery"
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


def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable: true`` becomes a null alternative."""
    if isinstance(node, list):
        return [_openapi_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _openapi_to_json_schema(v) for k, v in node.items() if k not in ("nullable", "example")
    }
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def callback_schemas(spec: Spec, operation_id: str = "createWebhook") -> dict[str, Any]:
    """Each event's body schema from the operation's ``callbacks`` (components embedded)."""
    op = spec.by_id(operation_id)
    raw = resolve(spec.document, spec.document["paths"][op.path][op.method]) if op else {}
    components = _openapi_to_json_schema(spec.document.get("components") or {})
    found = {}
    for event, callback in (raw.get("callbacks") or {}).items():
        for item in resolve(spec.document, callback).values():
            body = resolve(spec.document, (item.get("post") or {}).get("requestBody") or {})
            schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
            if schema:
                found[event] = {**_openapi_to_json_schema(schema), "components": components}
    return found


def schema_errors(schema: dict[str, Any], payload: Any) -> list[str]:
    import jsonschema_rs  # loaded on use: only the webhook probe needs it

    return [e.message for e in jsonschema_rs.Draft4Validator(schema).iter_errors(payload)][:3]


def verify(secret: str, delivery: Delivery) -> str | None:
    """Why the delivery's Standard Webhooks signature does not verify, or ``None``."""
    from standardwebhooks import Webhook  # loaded on use: only the webhook probe needs it

    try:
        Webhook(secret).verify(delivery.body, delivery.headers)
    except Exception as exc:  # noqa: BLE001 - any refusal of the library is the finding
        return f"{type(exc).__name__}: {exc}"
    return None


def _payload(delivery: Delivery) -> dict[str, Any]:
    try:
        value = json.loads(delivery.body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _register(ctx: ProbeContext, url: str, events: list[str]) -> tuple[str, str]:
    body = {"url": url, "events": events, "description": f"pin-contract {ctx.run_id}"}
    ex = ctx.send("POST", "createWebhook", "/v1/webhooks", json=body)
    ctx.require(ex.status == 201, DELIVERY, f"POST /v1/webhooks answered {ex.status}", ex)
    return str(body_of(ex).get("id", "")), str(body_of(ex).get("secret", ""))


def _triggers(ctx: ProbeContext) -> dict[str, str]:
    """Cause each event the run's client can; event type -> the id its payload names."""
    done: dict[str, str] = {}
    if not ctx.lacking(["createPatient"]) and ctx.operation("createPatient"):
        ex = ctx.send("POST", "createPatient", "/v1/patients",
                      json={"name": f"Hook {ctx.run_id} Probe", "date_of_birth": "1990-09-09"})  # fmt: skip
        pid = str(body_of(ex).get("id", ""))
        done["patient.created"] = pid
        if not ctx.lacking(["addClinicalData"]) and ctx.operation("addClinicalData") and pid:
            entry = {"data_type": ENTRY_TYPE, "recorded_at": RECORDED_AT,
                     "value": {"score": 2, "scale": "NRS", "location": "neck"}}  # fmt: skip
            ex = ctx.send("POST", "addClinicalData", f"/v1/patients/{pid}/clinical-data", json=entry,
                          path_params={"patient_id": pid})  # fmt: skip
            done["clinical_data.updated"] = str(body_of(ex).get("id", ""))
    if not ctx.lacking(["createReport"]) and ctx.operation("createReport"):
        ex = ctx.send(
            "POST",
            "createReport",
            "/v1/reports",
            json={"type": "population_health", "format": "json"},
        )
        done["report.completed"] = str(body_of(ex).get("id", ""))
    return done


def _check_delivery(ctx: ProbeContext, d: Delivery, secret: str, schemas: dict[str, Any]) -> None:
    why = verify(secret, d)
    ctx.expect(why is None, DELIVERY, f"a delivery to {d.path} fails Standard Webhooks verification: {why}", None,
               operation="webhook delivery")  # fmt: skip
    payload = _payload(d)
    event = str(payload.get("type"))
    if event in schemas:
        errors = schema_errors(schemas[event], payload)
        ctx.expect(not errors, DELIVERY, f"a {event} delivery does not match the spec's callback: {errors}",
                   None, operation="webhook delivery")  # fmt: skip


def _log(ctx: ProbeContext, wid: str, until: Any = None) -> list[dict[str, Any]]:
    """The webhook's delivery log, polled until ``until(log)`` holds (a log entry is written
    once the attempt is over, a moment after the receiver has answered)."""
    deadline = time.monotonic() + LOG_WAIT
    while True:
        ex = ctx.send("GET", "listDeliveries", f"/v1/webhooks/{wid}/deliveries",
                      params={"limit": 100}, path_params={"webhook_id": wid})  # fmt: skip
        ctx.expect(
            ex.status == 200, DELIVERY, f"the delivery log of {wid} answered {ex.status}", ex
        )
        log = [d for d in body_of(ex).get("data") or [] if isinstance(d, dict)]
        if ex.status != 200 or until is None or until(log) or time.monotonic() > deadline:
            return log
        time.sleep(0.2)


def webhooks_end_to_end(ctx: ProbeContext) -> None:
    if ctx.receiver_url is None and not is_local(ctx.target.base_url):
        raise ProbeSkip(
            "a remote target cannot reach the kit's loopback receiver: give --webhook-receiver-url"
        )
    host, _, port = (ctx.receiver_bind or "127.0.0.1:0").rpartition(":")
    with Receiver(host or "127.0.0.1", int(port or 0)) as receiver:
        base = (ctx.receiver_url or "http://{}:{}".format(*receiver.address)).rstrip("/")
        _run(ctx, receiver, base)


def _run(ctx: ProbeContext, receiver: Receiver, base: str) -> None:
    events = list(ctx.spec.body_enum(ctx.operation("createWebhook"), "events")) or [
        "patient.created"
    ]  # type: ignore[arg-type]
    token = uuid.uuid4().hex[:8]
    main_path, retry_path = f"/pin-contract/{token}/all", f"/pin-contract/{token}/retry"
    wid, secret = _register(ctx, base + main_path, events)
    retry_id, _ = _register(ctx, base + retry_path, ["patient.created"])
    receiver.fail_first(retry_path, 1)
    schemas = callback_schemas(ctx.spec)
    triggered = _triggers(ctx)
    wanted = set(triggered)
    arrived = receiver.wait_for(
        lambda ds: wanted <= {_payload(d).get("type") for d in ds if d.path == main_path},
        ctx.webhook_wait,
    )
    got = {str(_payload(d).get("type")) for d in receiver.to(main_path)}
    ctx.expect(arrived, DELIVERY, f"within {ctx.webhook_wait:.0f} s, events {sorted(wanted - got)} were not delivered",
               None, operation="webhook delivery")  # fmt: skip
    for d in receiver.to(main_path):
        _check_delivery(ctx, d, secret, schemas)
    ids = {d.headers.get("webhook-id") for d in receiver.to(main_path)}
    logged = {
        str(d.get("event_id"))
        for d in _log(ctx, wid, lambda log: ids <= {str(d.get("event_id")) for d in log})
    }
    for d in receiver.to(main_path):
        ctx.expect(d.headers.get("webhook-id") in logged, DELIVERY,
                   f"delivery {d.headers.get('webhook-id')} is not in the delivery log of {wid}", None,
                   operation="GET /v1/webhooks/{webhook_id}/deliveries")  # fmt: skip
    if "patient.created" in triggered:
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
            log = _log(ctx, retry_id, lambda log: len(log) >= 2)
            attempts = sorted(int(d.get("attempt", 0)) for d in log)
            ctx.expect(attempts[:2] == [1, 2], DELIVERY,
                       f"the delivery log of {retry_id} records attempts {attempts}, not 1 and 2", None,
                       operation="GET /v1/webhooks/{webhook_id}/deliveries")  # fmt: skip
    for hook in (wid, retry_id):
        ctx.send(
            "DELETE", "deleteWebhook", f"/v1/webhooks/{hook}", path_params={"webhook_id": hook}
        )
    before = len(receiver.to(main_path))
    if triggered:
        _triggers(ctx)
        time.sleep(QUIET_WATCH)
        ctx.expect(len(receiver.to(main_path)) == before, DELIVERY,
                   f"a deleted webhook {wid} still received {len(receiver.to(main_path)) - before} deliveries",
                   None, operation="webhook delivery")  # fmt: skip


WEBHOOK_PROBES = [
    Probe("webhooks end to end: delivered, signed, retried, logged, stopped",
          ("createWebhook", "listDeliveries", "deleteWebhook"), webhooks_end_to_end, (DELIVERY,)),
]  # fmt: skip
