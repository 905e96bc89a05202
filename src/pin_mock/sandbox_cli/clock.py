"""``pin-mock clock``: read and move a client's clock on a running sandbox.

Like ``stripe test_helpers test_clocks``, but one clock per client: ``show``
(the default), ``freeze [--at TIME]``, ``advance SECONDS`` and ``resume``, each
one call of ``/_sandbox/clock``. The caller is the client whose token is given
(``--token`` or ``PIN_TOKEN``), or whose credentials are (``--client-id``,
default ``sandbox-enterprise`` with the bundled, public secret): a token is
fetched from the sandbox's token endpoint. One line per answer (``--json``: the
answer as it came); a refusal prints the sandbox's message and exits 1, a
sandbox that cannot be reached exits 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_CLIENT = "sandbox-enterprise"
TIMEOUT = 10.0


class _Sandbox:
    def __init__(self, url: str, token: str | None, client_id: str, secret: str | None) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT)
        self.token = token or self._fetch_token(client_id, secret or f"{client_id}-secret")

    def _fetch_token(self, client_id: str, secret: str) -> str:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        answer = self.http.post("/oauth/token", data=form)
        if answer.status_code != 200:
            _refused(answer, "the token endpoint")
        return str(answer.json()["access_token"])

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.http.request(
            method, path, json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        if answer.status_code != 200:
            _refused(answer, f"{method} {path}")
        return dict(answer.json())


def _refused(answer: httpx.Response, what: str) -> None:
    try:
        body = answer.json()
        message = body.get("error", {}).get("message") or body.get("error_description")
    except (ValueError, AttributeError):
        message = None
    click.echo(f"{what}: {answer.status_code} {message or answer.text[:200]}", err=True)
    sys.exit(1)


def _line(clock: dict[str, Any]) -> str:
    state = "frozen" if clock["frozen"] else "running"
    offset = float(clock["offset_seconds"])
    return f"{clock['client_id']}: {clock['now']} ({state}, {offset:+.3f} s from the real clock)"


@click.command(name="clock")
@click.argument(
    "action", type=click.Choice(["show", "freeze", "advance", "resume"]), default="show"
)
@click.argument("seconds", required=False, type=float)
@click.option("--at", "at", metavar="TIME", help="freeze: the RFC 3339 time to freeze at.")
@click.option("--url", envvar="PIN_MOCK_URL", default=DEFAULT_URL, show_default=True,
              help="The sandbox's address (or PIN_MOCK_URL).")  # fmt: skip
@click.option("--token", envvar="PIN_TOKEN", help="An access token (or PIN_TOKEN).")
@click.option("--client-id", envvar="PIN_CLIENT_ID", default=DEFAULT_CLIENT, show_default=True,
              help="Without a token: the client to fetch one for.")  # fmt: skip
@click.option("--client-secret", envvar="PIN_CLIENT_SECRET",
              help="Its secret (default: the bundled clients' <client_id>-secret).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def clock(
    action: str,
    seconds: float | None,
    at: str | None,
    url: str,
    token: str | None,
    client_id: str,
    client_secret: str | None,
    as_json: bool,
) -> None:
    """Show, freeze, advance or resume your clock on a running sandbox.

    \b
      pin-mock clock                      show it
      pin-mock clock freeze --at 2030-01-01T00:00:00Z
      pin-mock clock advance 3600         an hour ahead, at once
      pin-mock clock resume
    """
    if (action == "advance") != (seconds is not None):
        raise click.UsageError("SECONDS goes with advance, and only with it.")
    if at is not None and action != "freeze":
        raise click.UsageError("--at goes with freeze only.")
    try:
        sandbox = _Sandbox(url, token, client_id, client_secret)
        if action == "show":
            answer = sandbox.call("GET", "/_sandbox/clock")
        elif action == "advance":
            answer = sandbox.call("POST", "/_sandbox/clock/advance", {"seconds": seconds})
        elif action == "freeze":
            answer = sandbox.call(
                "POST", "/_sandbox/clock/freeze", None if at is None else {"at": at}
            )
        else:
            answer = sandbox.call("POST", "/_sandbox/clock/resume")
    except httpx.HTTPError as exc:
        click.echo(f"cannot reach the sandbox at {url}: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(answer) if as_json else _line(answer))
