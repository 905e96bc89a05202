"""``pin-mock logs``: a client's request journal in a terminal (``--follow``: as it happens).

An HTTP client of a running sandbox (``GET /_sandbox/requests`` and its stream
``/_sandbox/requests/stream``), like ``stripe logs tail``: one line per
exchange, a second line with the reason of a refused request, webhook
deliveries in the same timeline. It signs in as the client whose journal it
shows: ``--token`` (or ``PIN_TOKEN``), else ``--client-id``/``--client-secret``
through ``POST /oauth/token`` (asked again when the token expires).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import httpx

#: The bundled sandbox clients' secrets are ``<client_id>-secret`` (public, sandbox only).
DEFAULT_CLIENT = "sandbox-enterprise"


class Session:
    """A signed-in client of one sandbox: a token, fetched again when it expires."""

    def __init__(
        self, base_url: str, token: str | None, client_id: str, client_secret: str | None
    ) -> None:
        import httpx  # the sandbox's verbs import httpx only when they run

        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=10.0, trust_env=False)
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret or f"{client_id}-secret"
        self.fixed = token is not None

    def headers(self, renew: bool = False) -> dict[str, str]:
        if self.token is None or (renew and not self.fixed):
            answer = self.http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.client_secret),
            )
            if answer.status_code != 200:
                raise click.ClickException(
                    f"could not sign in as {self.client_id}: {answer.status_code} {answer.text[:300]}"
                )
            self.token = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        answer = self.http.get(path, params=params, headers=self.headers())
        if answer.status_code == 401 and not self.fixed:
            answer = self.http.get(path, params=params, headers=self.headers(renew=True))
        return answer


def line_of(entry: dict[str, Any]) -> str:
    """One entry as a terminal line (two for a refused request)."""
    when = entry["time"][11:23]
    fault = f"  [fault: {entry['fault']}]" if entry.get("fault") else ""
    if entry["kind"] == "webhook":
        hook = entry["webhook"] or {}
        status = entry["status"] if entry["status"] is not None else "---"
        text = (
            f"{when}  WEBHOOK {hook.get('event_type')} -> {entry['path']}  {status} "
            f"{hook.get('outcome')}  attempt {hook.get('attempt')}  {entry['duration_ms']:.1f} ms"
        )
        if hook.get("error"):
            text += f"\n    -> {hook['error']}"
        return text
    target = entry["path"] + (f"?{entry['query']}" if entry.get("query") else "")
    text = (
        f"{when}  {entry['method']:<6} {target}  {entry['status']}  "
        f"{entry.get('operation') or '-'}  {entry['duration_ms']:.1f} ms  "
        f"{entry.get('request_id') or ''}{fault}"
    )
    reason = entry.get("reason")
    if reason:
        text += f"\n    -> {reason.get('code')}: {reason.get('message')}"
        if reason.get("rule"):
            text += f" ({reason.get('location')} {reason.get('parameter')}: {reason['rule']})"
        nearest = reason.get("nearest_operation")
        if nearest:
            text += (
                f"\n    -> no operation here; nearest: {nearest['method']} {nearest['path']} "
                f"({nearest['operation']}: {nearest['summary']})"
            )
    return text


def _show(entry: dict[str, Any], as_json: bool) -> None:
    click.echo(json.dumps(entry) if as_json else line_of(entry))
    sys.stdout.flush()


def _refused(answer: httpx.Response) -> click.ClickException:
    return click.ClickException(f"the sandbox answered {answer.status_code}: {answer.text[:500]}")


@click.command()
@click.option(
    "--base-url",
    default="http://127.0.0.1:8080",
    envvar="PIN_BASE_URL",
    show_default=True,
    help="The sandbox (or PIN_BASE_URL).",
)
@click.option("--token", envvar="PIN_TOKEN", help="An access token (or PIN_TOKEN).")
@click.option(
    "--client-id",
    envvar="PIN_CLIENT_ID",
    default=DEFAULT_CLIENT,
    show_default=True,
    help="Sign in as this client when no token is given (or PIN_CLIENT_ID).",
)
@click.option(
    "--client-secret",
    envvar="PIN_CLIENT_SECRET",
    help="Its secret (or PIN_CLIENT_SECRET; default: the bundled <client_id>-secret).",
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing exchanges as they happen.")
@click.option("--operation", help="Only this operationId (webhook: the webhook deliveries).")
@click.option("--status", help="Only these statuses, comma-separated: 404, 4xx...")
@click.option("--since", help="Only exchanges at or after this time (RFC 3339).")
@click.option(
    "--limit", type=int, default=20, show_default=True, help="Without --follow: how many."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON entry per line.")
def logs(
    base_url: str,
    token: str | None,
    client_id: str,
    client_secret: str | None,
    follow: bool,
    operation: str | None,
    status: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Print your request journal: the last exchanges with the sandbox, oldest first.

    With --follow, keep printing each exchange (and webhook delivery) as it
    happens, until interrupted. Only the signed-in client's own exchanges.
    """
    import httpx

    session = Session(base_url, token, client_id, client_secret)
    filters = {
        k: v for k, v in {"operation": operation, "status": status, "since": since}.items() if v
    }
    try:
        if not follow:
            answer = session.get("/_sandbox/requests", {**filters, "limit": limit})
            if answer.status_code != 200:
                raise _refused(answer)
            for entry in reversed(answer.json()["data"]):
                _show(entry, as_json)
            return
        _follow(session, filters, as_json)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the sandbox at {base_url}: {exc}") from exc
    except KeyboardInterrupt:
        pass


def _follow(session: Session, filters: dict[str, Any], as_json: bool) -> None:
    """Read the stream; when the sandbox ends it, reconnect after the last entry seen.

    Without ``--since`` it starts after the newest entry there is now (read first), not
    "from whenever the stream opens": nothing recorded between a stream's end and the
    next one is lost, even when the first showed nothing.
    """
    after: str | None = None
    if "since" not in filters:
        answer = session.get("/_sandbox/requests", {"limit": 1})
        if answer.status_code != 200:
            raise _refused(answer)
        newest = answer.json()["data"]
        after = newest[0]["id"] if newest else "0-0"
    first = True
    while True:
        params = dict(filters)
        if after is not None:
            params.pop("since", None)
            params["after"] = after
        for renew in (False, True):
            with session.http.stream(
                "GET",
                "/_sandbox/requests/stream",
                params=params,
                headers=session.headers(renew=renew),
                timeout=httpx_timeout(),
            ) as answer:
                if answer.status_code == 401 and not renew and not session.fixed:
                    continue
                if answer.status_code != 200:
                    answer.read()
                    raise _refused(answer)
                if first:
                    click.echo(
                        f"Following the journal of {session.client_id if not session.fixed else 'your client'} "
                        "(Ctrl-C to stop)...",
                        err=True,
                    )
                    first = False
                for line in answer.iter_lines():
                    if line.startswith("data: "):
                        entry = json.loads(line[6:])
                        after = entry["id"]
                        _show(entry, as_json)
                break


def httpx_timeout() -> Any:
    import httpx

    # The stream sends a comment at least every 15 s: a read waits a little longer.
    return httpx.Timeout(10.0, read=45.0)
