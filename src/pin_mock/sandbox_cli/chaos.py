"""``pin-mock chaos``: show, set or stop a client's chaos on a running sandbox.

    pin-mock chaos show
    pin-mock chaos set --probability 0.2 --fault connection_reset --fault truncated_json \\
        --operation listPatients --delay lognormal:median_ms=200,max_ms=2000 --seed 42
    pin-mock chaos off

An HTTP client of ``/_sandbox/chaos`` (mock-only): it signs in as the client
(``--client-id``/``--client-secret``, the client credentials grant) unless
given a token (``--token`` or ``PIN_TOKEN``), and acts on that client's chaos
only. The sandbox validates the setting; its refusal is printed as it says it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
TIMEOUT = 30.0


class Sandbox:
    """The sandbox at ``url``, called as one client."""

    def __init__(self, url: str, token: str | None, client_id: str, secret: str | None) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT)
        self.client_id = client_id
        self.token = token or self._sign_in(client_id, secret or f"{client_id}-secret")

    def _sign_in(self, client_id: str, secret: str) -> str:
        form = {"grant_type": "client_credentials"}
        answer = self._send("POST", "/oauth/token", data=form, auth=(client_id, secret))
        return str(answer["access_token"])

    def chaos(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self._send(method, "/_sandbox/chaos", json=body, headers=headers)

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            message = f"cannot reach the sandbox at {self.http.base_url}: {exc}"
            raise click.ClickException(message) from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code >= 400 or not isinstance(body, dict):
            raise click.ClickException(f"{method} {path}: {answer.status_code} {_reason(body)}")
        return body


def _reason(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))
    if isinstance(body, dict) and "error" in body:  # the token endpoint's RFC 6749 body
        return f"{body['error']}: {body.get('error_description', '')}"
    return "(not a JSON answer)"


def parse_delay(text: str) -> dict[str, Any]:
    """``lognormal:median_ms=200,max_ms=2000,sigma=0.5`` -> the body's ``delay``."""
    distribution, _, rest = text.partition(":")
    delay: dict[str, Any] = {"distribution": distribution.strip()}
    for field in filter(None, (part.strip() for part in rest.split(","))):
        name, equals, value = field.partition("=")
        if not equals:
            raise click.BadParameter(f"{field!r} is not NAME=VALUE", param_hint="--delay")
        try:
            delay[name.strip()] = int(value) if value.strip().isdigit() else float(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a number", param_hint="--delay") from None
    return delay


def render(state: dict[str, Any]) -> str:
    """A setting as a person reads it."""
    who = state.get("client_id", "?")
    if not state.get("enabled"):
        return f"chaos for {who}: off"
    delay = state.get("delay")
    lines = [
        f"chaos for {who}: on",
        f"  probability    {state['probability']}",
        f"  faults         {', '.join(state['faults']) or '(none: delays only)'}",
        f"  operations     {', '.join(state['operations']) or 'every /v1 operation'}",
        "  delay          "
        + (" ".join(f"{k}={v}" for k, v in delay.items()) if delay else "(none)"),
        f"  seed           {state['seed']}",
        f"  requests seen  {state['requests_seen']}",
    ]
    return "\n".join(lines)


def _options(function: Any) -> Any:
    for option in reversed(
        [
            # --base-url and PIN_BASE_URL as the other verbs (logs, trigger, listen) say it.
            click.option("--base-url", "--url", "url", default=DEFAULT_URL, show_default=True,
                         envvar=["PIN_BASE_URL", "PIN_SANDBOX_URL"],
                         help="The running sandbox (env PIN_BASE_URL)."),
            click.option("--token", envvar="PIN_TOKEN",
                         help="An access token of the client (PIN_TOKEN); else it signs in."),
            click.option("--client-id", default="sandbox-standard", show_default=True,
                         envvar="PIN_CLIENT_ID", help="The client whose chaos this is."),
            click.option("--client-secret", envvar="PIN_CLIENT_SECRET",
                         help="Its secret (default: the bundled clients' <client-id>-secret)."),
            click.option("--json", "as_json", is_flag=True, help="Print the sandbox's JSON."),
        ]
    ):  # fmt: skip
        function = option(function)
    return function


def _run(options: dict[str, Any], method: str, body: dict[str, Any] | None = None) -> None:
    sandbox = Sandbox(
        options["url"], options["token"], options["client_id"], options["client_secret"]
    )
    state = sandbox.chaos(method, body)
    click.echo(json.dumps(state, indent=2) if options["as_json"] else render(state))


@click.group()
def chaos() -> None:
    """Faults on demand (mock-only): a client's chaos setting on a running sandbox."""


@chaos.command()
@_options
def show(**options: Any) -> None:
    """Print the client's chaos setting and how many requests it covered."""
    _run(options, "GET")


@chaos.command(name="set")
@click.option("--probability", type=float, required=True, help="Chance of a fault, 0 to 1.")
@click.option("--fault", "faults", multiple=True, metavar="NAME",
              help="connection_reset, empty_response, malformed_json, truncated_json, "
                   "slow_body, headers_then_silence or random_data_then_close "
                   "(repeat for several).")  # fmt: skip
@click.option("--operation", "operations", multiple=True, metavar="OPERATION_ID",
              help="A /v1 operationId covered (repeat; default every /v1 operation).")  # fmt: skip
@click.option("--delay", metavar="DIST:NAME=VALUE,...",
              help="fixed:ms=250, uniform:min_ms=100,max_ms=500 or "
                   "lognormal:median_ms=200,sigma=0.5,max_ms=2000.")  # fmt: skip
@click.option("--seed", type=int, help="Same seed, same faults in the same order (default: drawn).")
@click.option("--slow-body-ms", type=int, help="How long a slow_body takes (default 2000).")
@click.option("--silence-ms", type=int, help="How long headers_then_silence stays silent.")
@_options
def set_(**options: Any) -> None:
    """Replace the client's chaos setting (its count starts again)."""
    body: dict[str, Any] = {"probability": options.pop("probability")}
    for name in ("faults", "operations"):
        values = options.pop(name)
        if values:
            body[name] = list(values)
    delay = options.pop("delay")
    if delay:
        body["delay"] = parse_delay(delay)
    for name in ("seed", "slow_body_ms", "silence_ms"):
        value = options.pop(name)
        if value is not None:
            body[name] = value
    _run(options, "PUT", body)


@chaos.command()
@_options
def off(**options: Any) -> None:
    """Stop the client's chaos (nothing else changes)."""
    _run(options, "DELETE")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(chaos())
