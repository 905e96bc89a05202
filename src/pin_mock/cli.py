"""The ``pin-mock`` command: ``serve`` the sandbox, run the ``contract`` kit.

The kit is the base install (``pip install pin-mock``); the sandbox needs the
``server`` extra. So this module imports nothing from ``pin_mock.server`` at
import time: ``serve`` imports it when it runs, and says how to install the
extra when it is missing.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pin_mock.contract.command import contract  # cheap: click only
from pin_mock.contract.tools_command import diff, proxy  # cheap: click only
from pin_mock.sandbox_cli.chaos import chaos  # click and httpx only
from pin_mock.sandbox_cli.clock import clock  # cheap: click and httpx
from pin_mock.sandbox_cli.listen import listen
from pin_mock.sandbox_cli.logs import logs  # cheap: click and httpx
from pin_mock.sandbox_cli.trigger import resend, trigger

if TYPE_CHECKING:
    from pin_mock.server.settings import Settings

#: Import names of the ``server`` extra's libraries (see pyproject.toml).
SERVER_MODULES = (
    "connexion",
    "starlette",
    "uvicorn",
    "httptools",
    "jsonschema",
    "faker",
    "jwt",
    "limits",
    "fpdf",
    "jinja2",
    "orjson",
    "redis",
    "hiredis",
    "prometheus_client",
)

SERVER_INSTALL_HINT = "pip install 'pin-mock[server]'"


class ServerNotInstalled(click.ClickException):
    """``pin-mock serve`` without the ``server`` extra: one line, exit 2, no traceback."""

    exit_code = 2


class StartRefused(click.ClickException):
    """Settings or state ``serve`` cannot start with: the reason in one line, exit 2."""

    exit_code = 2


def missing_server_modules() -> list[str]:
    """The ``server`` extra's modules that cannot be imported here."""
    return [name for name in SERVER_MODULES if find_spec(name) is None]


def _server_not_installed(missing: list[str]) -> ServerNotInstalled:
    return ServerNotInstalled(
        "the sandbox needs the 'server' extra, which is not installed "
        f"(missing: {', '.join(missing)}). Install it with: {SERVER_INSTALL_HINT}"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pin-mock")
def main() -> None:
    """pin-mock: a local sandbox and contract-testing kit for the PIN API."""


@main.command()
@click.option("--host", help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option("--seed", type=int, help="Seed of the synthetic data (default 42).")
@click.option("--patients", type=int, help="Number of seeded patients (default 150).")
@click.option(
    "--clients",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sandbox clients YAML (default fixtures/clients.yaml).",
)
@click.option("--token-ttl", type=int, help="Access-token lifetime in seconds (default 3600).")
@click.option(
    "--rate-limit-window",
    type=int,
    help="Rate-limit window in seconds (default 3600: the tiers are per hour).",
)
@click.option("--quota-patients", type=int, help="Created patients per client (default 10000).")
@click.option(
    "--quota-entries", type=int, help="Created clinical data entries per client (default 100000)."
)
@click.option("--quota-reports", type=int, help="Reports per client (default 1000).")
@click.option("--quota-webhooks", type=int, help="Webhooks per client (default 100).")
@click.option(
    "--quota-pending-deliveries",
    type=int,
    help="Webhook deliveries waiting per client (default 10000).",
)
@click.option("--report-delay", type=float, help="Seconds a report takes (default 2).")
@click.option(
    "--job-claim-timeout",
    type=float,
    help="Redis: seconds before a dead worker's report or delivery is taken over (default 30).",
)
@click.option(
    "--max-body-bytes", type=int, help="Largest request body accepted, bytes (default 1048576)."
)
@click.option(
    "--webhook-timeout", type=float, help="Seconds to wait for a webhook receiver (default 10)."
)
@click.option(
    "--webhook-retry-factor",
    type=float,
    help="Scale the retry schedule 0s,5s,5m,30m,2h (0.01 makes it seconds; default 1).",
)
@click.option(
    "--webhook-targets",
    type=click.Choice(["local", "public", "hosted"]),
    help="Where webhooks may be delivered: local (loopback and private addresses, "
    "the default), public (those and the internet) or hosted (public addresses only).",
)
@click.option(
    "--state",
    help="Where what clients change lives: memory:// (default: this process) or "
    "redis://HOST:PORT/DB (shared by workers and replicas, kept across restarts).",
)
@click.option(
    "--sandbox-ttl",
    type=int,
    help="Redis: delete a client's sandbox idle this many seconds (default 604800: 7 days).",
)
@click.option(
    "--key-rotation",
    type=int,
    help="Make a new token signing key every s seconds (default 0: never).",
)
@click.option(
    "--key-grace",
    type=int,
    help="Seconds a retired signing key still verifies tokens (default 0: the token TTL).",
)
@click.option(
    "--workers",
    type=int,
    help="Worker processes (default 1; more need --state redis://, which they share).",
)
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="Log lines as text, or as one JSON object per line (default text).",
)
@click.option(
    "--forwarded-allow-ips",
    help="Peers whose X-Forwarded-For/-Proto are believed, comma-separated (default: none).",
)
@click.option(
    "--cors-origins",
    help="Web origins that may call the sandbox from a browser, comma-separated: "
    "exact origins, * or local (any port of localhost, 127.0.0.1, [::1]; the default); "
    "none turns CORS off.",
)
@click.option(
    "--allowed-hosts",
    help="Host names the sandbox answers to, comma-separated (others: 400, against DNS "
    "rebinding): names, .domain (and its subdomains), local (localhost, 127.0.0.1, [::1]) "
    "or *. Default: local when bound to a loopback address, else *.",
)
@click.option(
    "--max-connections", type=int, help="Open connections in all; more get 503 (default 1000)."
)
@click.option(
    "--max-connections-per-address",
    type=int,
    help="Open connections from one address (trusted proxies excepted); more get 503 "
    "(default 100).",
)
@click.option(
    "--send-timeout",
    type=float,
    help="Close a connection whose client has not read its answer for s (default 10).",
)
@click.option(
    "--keep-alive-timeout",
    type=float,
    help="Close idle keep-alive connections after s (default 5).",
)
@click.option(
    "--header-timeout", type=float, help="Seconds a request's headers may take (default 10)."
)
@click.option("--body-timeout", type=float, help="Seconds a request's body may take (default 30).")
@click.option(
    "--graceful-shutdown-timeout",
    type=float,
    help="On SIGTERM, abandon (and log) requests still running after s (default 5).",
)
@click.option(
    "--metrics/--no-metrics",
    default=None,
    help="Prometheus metrics at /metrics, across workers (default off; docs/deploy.md).",
)
@click.option(
    "--traces/--no-traces",
    default=None,
    help="OpenTelemetry spans per request and background job, exported where OTEL_* says "
    "(default off; needs pip install 'pin-mock[traces]').",
)
@click.option(
    "--journal-size",
    type=int,
    help="Exchanges kept in each client's request journal (default 100; 0: no journal).",
)
@click.option(
    "--journal-body-bytes",
    type=int,
    help="Bytes of each request and response body the journal keeps (default 4096).",
)
@click.option(
    "--journal-clients",
    type=int,
    help="Clients' journals kept in all, the least recently active dropped first (default 1000).",
)
def serve(**options: object) -> None:
    """Start the sandbox (PIN_MOCK_* environment variables also apply).

    Needs the server extra: pip install 'pin-mock[server]'.
    """
    missing = missing_server_modules()
    if missing:
        raise _server_not_installed(missing)
    try:
        from pin_mock.server.errors import ConfigError
        from pin_mock.server.settings import Settings

        try:  # settings first: a bad flag is reported before the app's imports
            # Bound to loopback, answer only to loopback names (DNS rebinding).
            settings = Settings.from_env(defaults={"allowed_hosts": "auto"}, **options)
        except ConfigError as exc:
            raise StartRefused(str(exc)) from exc

        import pin_mock.server.transport.logs as logs
        import pin_mock.server.transport.uvicorn_config as serving
        from pin_mock.server.app import create_app
    except ModuleNotFoundError as exc:  # a dependency of a dependency is missing
        if (exc.name or "").partition(".")[0] == "pin_mock":
            raise
        raise _server_not_installed([exc.name or str(exc)]) from exc
    logs.configure(settings.log_level, settings.log_format)  # once, before anything logs
    try:  # one worker: the app is built here; several: each builds its own
        config = serving.prepare(settings, create_app)
    except ConfigError as exc:  # e.g. Redis unreachable: one line, no traceback
        raise StartRefused(str(exc)) from exc
    base = f"http://{settings.host}:{settings.port}"
    click.echo(f"pin-mock sandbox on {base}  (seed {settings.seed}, {settings.patients} patients)")
    click.echo(f"  docs:  {base}/docs    spec: {base}/openapi.yaml")
    from pin_mock.server.app import load_spec
    from pin_mock.server.routes.reference import reference_note
    from pin_mock.server.routes.sandbox_spec import sandbox_view

    view = sandbox_view(settings.spec, load_spec(settings.spec))
    click.echo(f"  reference: {base}/reference{reference_note(view)}")
    click.echo(f"  inspector: {base}/_sandbox/inspector    (pin-mock logs --follow)")
    click.echo(f"  state: {serving.redacted(settings.state)}    workers: {settings.workers}")
    metrics = f"{base}/metrics" if settings.metrics else "off (--metrics)"
    click.echo(f"  probes: {base}/healthz {base}/readyz    metrics: {metrics}")
    click.echo("  clients (secret = <client_id>-secret):")
    for client in _clients_summary(settings):
        click.echo(f"    {client}")
    serving.run(config)


def _clients_summary(settings: Settings) -> list[str]:
    from pin_mock.server.domain.auth import ClientRegistry

    registry = ClientRegistry.from_file(settings.clients_file, settings.tier_limits)
    return [f"{c.client_id:<22} {c.tier:<13} {c.description}" for c in registry]


main.add_command(contract)
main.add_command(proxy)
main.add_command(diff)
main.add_command(trigger)
main.add_command(resend)
main.add_command(listen)
main.add_command(logs)
main.add_command(chaos)
main.add_command(clock)

if __name__ == "__main__":
    sys.exit(main())
