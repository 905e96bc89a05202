"""``pin-mock trigger EVENT_TYPE`` and ``pin-mock resend EVENT_ID``: events on demand.

    pin-mock trigger patient.created
    pin-mock trigger clinical_data.updated --data '{"patient_id": "patient_123", ...}'
    pin-mock resend msg_c7e2a94b1d3f --webhook-id wh_c39265a9e557

Clients of ``POST /_sandbox/events`` and ``POST /_sandbox/events/{id}/resend``
(like ``stripe trigger`` and ``stripe events resend``): the sandbox delivers
the event, signed, to the caller's webhooks subscribed to its type. Exit 0
once the event is queued, 1 when the sandbox refused (its reason printed),
2 when it could not be reached or the input is not JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from pin_mock.sandbox_cli.verb_options import Refused, connection_options


def _data(value: str | None) -> dict[str, Any] | None:
    """``--data``: JSON text, or ``@FILE`` holding it."""
    if value is None:
        return None
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from exc
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--data")
    return data


def _report(event: dict[str, Any], verb: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(event, indent=2))
        return
    hooks = event["webhook_ids"]
    click.echo(f"{verb} {event['type']} {event['id']}")
    if hooks:
        click.echo(f"  queued to {len(hooks)} webhook(s): {', '.join(hooks)}")
    else:
        click.echo(
            f"  no webhook of yours is subscribed to {event['type']}: nothing was sent "
            f"(register one, or run `pin-mock listen`, then `pin-mock resend {event['id']}`)"
        )
    click.echo(f"  data: {json.dumps(event['data'])}")


@click.command()
@click.argument("event_type")
@click.option(
    "--data",
    "data_text",
    metavar="JSON|@FILE",
    help="The event's data as PIN documents it for the type (default: realistic data).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the sandbox's answer as JSON.")
@connection_options
def trigger(
    event_type: str,
    data_text: str | None,
    as_json: bool,
    base_url: str,
    client_id: str,
    client_secret: str,
    token: str | None,
) -> None:
    """Fire a webhook event (patient.created, clinical_data.updated, report.completed,
    report.failed) at your subscribed webhooks, through the sandbox's signed delivery."""
    body: dict[str, Any] = {"type": event_type}
    data = _data(data_text)
    if data is not None:
        body["data"] = data
    from pin_mock.sandbox_cli.connection import open_client, problem, send

    with open_client(base_url, client_id, client_secret, token) as client:
        response = send(client, "POST", "/_sandbox/events", json=body)
    if response.status_code != 202:
        raise Refused(problem(response))
    _report(response.json(), "triggered", as_json)


@click.command()
@click.argument("event_id")
@click.option("--webhook-id", help="Only to this webhook (default: every one subscribed).")
@click.option("--json", "as_json", is_flag=True, help="Print the sandbox's answer as JSON.")
@connection_options
def resend(
    event_id: str,
    webhook_id: str | None,
    as_json: bool,
    base_url: str,
    client_id: str,
    client_secret: str,
    token: str | None,
) -> None:
    """Send a past event again: the same body under the same webhook-id."""
    from pin_mock.sandbox_cli.connection import open_client, problem, send

    body = {"webhook_id": webhook_id} if webhook_id else None
    with open_client(base_url, client_id, client_secret, token) as client:
        response = send(
            client, "POST", f"/_sandbox/events/{quote(event_id, safe='')}/resend", json=body
        )
    if response.status_code != 202:
        raise Refused(problem(response))
    _report(response.json(), "resent", as_json)
