"""Judging what a webhook receiver got: one delivery, and the delivery log against it.

A delivery must verify (Standard Webhooks, with the secret the target handed
out), match the spec's ``callbacks`` schema for its event, and agree with
itself (``pin_delivery_consistency``): the body's ``id`` is the ``webhook-id``
header (the spec says so), its ``type`` is one the webhook subscribed to, the
``webhook-timestamp`` is a plausible epoch second not before the event's
``created_at``, and every ``*_id`` of its ``data`` names something the kit's
trigger created. The delivery log must tell what the receiver really answered
(``pin_delivery_log``): each logged attempt the receiver saw carries the status
code it answered, ``succeeded`` for a 2xx and ``failed`` otherwise.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from pin_mock.contract.exchange import shown
from pin_mock.contract.openapi import openapi_to_json_schema, resolve
from pin_mock.contract.probes.framework import ProbeContext
from pin_mock.contract.receiver import Delivery
from pin_mock.contract.spec import Spec

DELIVERY = "pin_webhook_delivery"
CONSISTENCY = "pin_delivery_consistency"
LOG = "pin_delivery_log"
#: Standard Webhooks' tolerance for a delivery's timestamp, seconds.
TIMESTAMP_TOLERANCE = 300


def callback_schemas(spec: Spec, operation_id: str = "createWebhook") -> dict[str, Any]:
    """Each event's body schema from the operation's ``callbacks`` (components embedded)."""
    op = spec.by_id(operation_id)
    raw = resolve(spec.document, spec.document["paths"][op.path][op.method]) if op else {}
    components = openapi_to_json_schema(spec.document.get("components") or {})
    found = {}
    for event, callback in (raw.get("callbacks") or {}).items():
        for item in resolve(spec.document, callback).values():
            body = resolve(spec.document, (item.get("post") or {}).get("requestBody") or {})
            schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
            if schema:
                found[event] = {**openapi_to_json_schema(schema), "components": components}
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


def payload(delivery: Delivery) -> dict[str, Any]:
    try:
        value = json.loads(delivery.body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def inconsistencies(d: Delivery, events: set[str], created: set[str]) -> list[str]:
    """How a delivery disagrees with its own headers, its webhook or what was created."""
    body, problems = payload(d), []
    header_id = d.headers.get("webhook-id")
    if body.get("id") != header_id:
        problems.append(
            f"its body's id {shown(body.get('id'))} is not its webhook-id header {shown(header_id)}"
        )
    if body.get("type") not in events:
        problems.append(f"its type {shown(body.get('type'))} is not one the webhook subscribed to")
    raw = d.headers.get("webhook-timestamp", "")
    stamp = int(raw) if raw.isascii() and raw.isdigit() else None
    received = time.time() - (time.monotonic() - d.at)
    if stamp is None or abs(stamp - received) > TIMESTAMP_TOLERANCE:
        problems.append(f"its webhook-timestamp {shown(raw)} is not the time of the attempt")
    made = _epoch(body.get("created_at"))
    if stamp is not None and made is not None and stamp + 1 < int(made):
        problems.append(
            f"it was sent at {stamp}, before its event was created ({body.get('created_at')})"
        )
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    for key, value in sorted(data.items()):
        if key.endswith("_id") and isinstance(value, str) and value not in created:
            problems.append(f"its data.{key} {shown(value)} names nothing the trigger created")
    return problems


def judge_delivery(
    ctx: ProbeContext,
    d: Delivery,
    secret: str,
    schemas: dict[str, Any],
    events: set[str],
    created: set[str],
) -> None:
    where = "webhook delivery"
    why = verify(secret, d)
    ctx.expect(why is None, DELIVERY, f"a delivery to {d.path} fails Standard Webhooks verification: {why}",
               None, operation=where)  # fmt: skip
    body = payload(d)
    event = str(body.get("type"))
    if event in schemas:
        errors = schema_errors(schemas[event], body)
        ctx.expect(not errors, DELIVERY, f"a {event} delivery does not match the spec's callback: {errors}",
                   None, operation=where)  # fmt: skip
    for problem in inconsistencies(d, events, created):
        ctx.expect(False, CONSISTENCY, f"a {event} delivery disagrees with itself: {problem}", None,
                   operation=where)  # fmt: skip


def judge_log(
    ctx: ProbeContext, log: list[dict[str, Any]], seen: list[Delivery], operation: str
) -> None:
    """Each attempt the receiver saw is logged with what the receiver answered."""
    answered: dict[tuple[str, int], int] = {}
    attempts: dict[str, int] = {}
    for d in sorted(seen, key=lambda d: d.at):
        event = d.headers.get("webhook-id", "")
        attempts[event] = attempts.get(event, 0) + 1
        answered[(event, attempts[event])] = d.status
    for entry in log:
        key = (str(entry.get("event_id")), int(entry.get("attempt") or 0))
        if key not in answered:
            continue  # an attempt the receiver never saw (it may have been refused on the way)
        status, code = entry.get("status"), entry.get("status_code")
        truth = answered[key]
        expected = "succeeded" if 200 <= truth < 300 else "failed"
        ctx.expect(code == truth and status == expected, LOG,
                   f"the delivery log says attempt {key[1]} of {key[0]} was {shown(status)} with "
                   f"status_code {shown(code)}; the receiver answered {truth}", None, operation=operation)  # fmt: skip
