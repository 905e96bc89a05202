"""``pin-mock contract``: the kit's command line (a click group the main CLI adds).

``pin-mock contract --base-url URL`` runs the kit; ``pin-mock contract replay
FILE`` re-sends the failures a run recorded. Importing this module is cheap
(click only); the run's machinery is imported when a command runs, so
``pin-mock serve`` does not pay for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID

PHASE_NAMES = ("examples", "coverage", "fuzzing", "stateful", "probes")


def _phases(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    phases = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASE_NAMES]
    if unknown or not phases:
        raise click.BadParameter(f"choose from {', '.join(PHASE_NAMES)} (comma-separated)")
    return phases


def credential_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The target and its client: shared by ``contract`` and ``contract replay``."""
    for option in reversed([
        click.option("--base-url", metavar="URL", help="The PIN implementation to test, e.g. http://127.0.0.1:8080."),
        click.option("--client-id", envvar="PIN_CLIENT_ID", metavar="ID",
                     help=f"OAuth client id [env PIN_CLIENT_ID; default: the sandbox's {DEFAULT_CLIENT_ID}]."),
        click.option("--client-secret", envvar="PIN_CLIENT_SECRET", metavar="SECRET",
                     help="OAuth client secret [env PIN_CLIENT_SECRET]."),
        click.option("--spec", type=click.Path(dir_okay=False, path_type=Path),
                     help="OpenAPI file (default: the bundled pin.yaml)."),
        click.option("--request-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
                     help="Seconds per request."),
    ]):  # fmt: skip
        command = option(command)
    return command


def selection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--include``/``--exclude`` by operation, tag, path and method."""
    kinds = [
        ("", "OP", "an operationId or 'GET /v1/patients'"),
        ("-tag", "TAG", "a tag of the spec (Patients)"),
        ("-path", "GLOB", "a path or glob ('/v1/patients*')"),
        ("-method", "METHOD", "an HTTP method (GET)"),
    ]
    for suffix, metavar, what in reversed(kinds):
        command = click.option(f"--exclude{suffix}", multiple=True, metavar=metavar,
                               help=f"Skip operations matching {what} (repeatable).")(command)  # fmt: skip
        command = click.option(f"--include{suffix}", multiple=True, metavar=metavar,
                               help=f"Only operations matching {what} (repeatable; kinds combine with AND).")(command)  # fmt: skip
    return command


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@credential_options
@click.option("--second-client-id", envvar="PIN_SECOND_CLIENT_ID", metavar="ID",
              help="A second client of the same target, for the tenancy and rate-limit isolation probes "
                   "[env PIN_SECOND_CLIENT_ID].")  # fmt: skip
@click.option("--second-client-secret", envvar="PIN_SECOND_CLIENT_SECRET", metavar="SECRET",
              help="The second client's secret [env PIN_SECOND_CLIENT_SECRET].")  # fmt: skip
@click.option("--webhook-receiver-url", envvar="PIN_WEBHOOK_RECEIVER_URL", metavar="URL",
              help="Where a remote target reaches the kit's webhook receiver (default: loopback, local "
                   "targets only) [env PIN_WEBHOOK_RECEIVER_URL].")  # fmt: skip
@click.option("--webhook-bind", envvar="PIN_WEBHOOK_BIND", metavar="HOST:PORT",
              help="Where the webhook receiver listens (default: an ephemeral loopback port).")  # fmt: skip
@click.option("--max-examples", type=click.IntRange(min=1), default=10, show_default=True,
              help="Test cases per operation and phase.")  # fmt: skip
@click.option("--seed", type=int, help="Random seed, for a reproducible run.")
@click.option("--phases", default=",".join(PHASE_NAMES), show_default=True, callback=_phases,
              help="Comma-separated phases; 'probes' are the kit's own (auth enforcement, statefulness).")  # fmt: skip
@selection_options
@click.option("--include-unimplemented", is_flag=True,
              help="Test operations that answer only 404/405/501 too (default: report them as not implemented).")  # fmt: skip
@click.option("--checks", multiple=True, metavar="NAMES",
              help="Only these checks (comma-separated, repeatable); 'default' is the default set, 'all' "
                   "adds the opt-in ones. --list-checks names them.")  # fmt: skip
@click.option(
    "--exclude-checks",
    multiple=True,
    metavar="NAMES",
    help="Leave these checks out (comma-separated).",
)
@click.option(
    "--list-checks", is_flag=True, help="List every check, whether it runs by default, and exit."
)
@click.option("--rate-limit", metavar="N/s",
              help="The kit's own pace, e.g. 20/s or 600/m (default: paced only if the client's budget is short).")  # fmt: skip
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write summary.txt, junit.xml, failures.har, coverage.md/.json, resources.json here.")  # fmt: skip
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), envvar="PIN_CONTRACT_CACHE_DIR",
              help="Keep Schemathesis's and Hypothesis's caches here [env PIN_CONTRACT_CACHE_DIR; "
                   "default: a temporary directory, removed after the run].")  # fmt: skip
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Concurrent Schemathesis workers.")  # fmt: skip
@click.option("--cleanup", type=click.Choice(["always", "never"]), default="always", show_default=True,
              help="Remove what the run created (what the contract lets a client delete); 'never' "
                   "leaves it and lists it.")  # fmt: skip
@click.option("--wait-for", metavar="URL", is_flag=False, flag_value="/",
              help="Wait until this URL answers below 500 before testing (a path is taken on --base-url; "
                   "alone: the base URL), e.g. /openapi.yaml or /readyz.")  # fmt: skip
@click.option("--wait-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds --wait-for waits before giving up (exit 2).")  # fmt: skip
@click.option("--min-coverage", multiple=True, metavar="[DIMENSION=]PERCENT",
              help="Fail below this coverage: the total (70) or a dimension (statuses=60); repeatable. "
                   "Dimensions: operations, statuses, parameters, checks, examples.")  # fmt: skip
@click.option("--examples", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Where the documented examples' requests come from: an OpenAPI Overlay or a map "
                   "operationId -> example -> request (default: the spec, or a sidecar next to it).")  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress, only the summary.")
@click.pass_context
def contract(ctx: click.Context, quiet: bool, list_checks: bool, **options: Any) -> None:
    """Test any PIN implementation against the contract (openapi/pin.yaml).

    Exit status: 0 when everything holds, 1 when a check fails (or a coverage
    floor is not met), 2 for a usage problem or an unreachable target.
    """
    if ctx.invoked_subcommand is not None:
        return
    from pin_mock.contract.options import ContractOptions

    if list_checks:
        click.echo(_check_list(options.get("spec")))
        sys.exit(0)
    if not options.get("base_url"):
        raise click.UsageError("Missing option '--base-url'.")
    from pin_mock.contract.output.progress import choose_progress
    from pin_mock.contract.output.summary import render
    from pin_mock.contract.runner import run_contract

    opts = ContractOptions(**{k: v for k, v in options.items() if k != "checks"},
                           checks=options["checks"] or None)  # fmt: skip
    result = run_contract(opts, choose_progress(quiet=quiet))
    if result.exit_code == 2:
        # A usage problem or an unreachable target: one line, no traceback.
        click.echo(f"Error: {result.reason}", err=True)
        sys.exit(2)
    click.echo(render(result, opts.report_dir))
    sys.exit(result.exit_code)


def _check_list(spec: Path | None) -> str:
    from pin_mock.contract.checks.catalogue import ALL_CHECKS
    from pin_mock.contract.runner import known_checks
    from pin_mock.contract.selection import OPT_IN
    from pin_mock.contract.spec import Spec, bundled_spec_path

    described = {c.name: c.description for c in ALL_CHECKS}
    lines = []
    for name in sorted(known_checks(Spec.load(spec or bundled_spec_path()))):
        default = "opt-in " if name in OPT_IN else "default"
        lines.append(f"{name:<32} {default}  {described.get(name, '')}".rstrip())
    return "\n".join(lines)


@contract.command("replay")
@credential_options
@click.argument("cassette", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def replay(cassette: Path, **options: Any) -> None:
    """Re-send each failure recorded in CASSETTE (a run's failures.har) and judge it again.

    Exit status: 0 when every failure is fixed, 1 when some still fail, 2 for a
    usage problem.
    """
    from pin_mock.contract.replay import ReplayOptions, replay_cassette

    outcome = replay_cassette(ReplayOptions(cassette=cassette, **options))
    click.echo(outcome.render())
    sys.exit(outcome.exit_code)
