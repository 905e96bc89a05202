"""``pin-mock contract``: the kit's command line (a click command the main CLI adds).

Importing this module is cheap (click only); the run's machinery is imported
when the command runs, so ``pin-mock serve`` does not pay for it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID

PHASE_NAMES = ("examples", "coverage", "fuzzing", "stateful", "probes")


def _phases(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    phases = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASE_NAMES]
    if unknown or not phases:
        raise click.BadParameter(f"choose from {', '.join(PHASE_NAMES)} (comma-separated)")
    return phases


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--base-url",
    required=True,
    metavar="URL",
    help="The PIN implementation to test, e.g. http://127.0.0.1:8080.",
)
@click.option(
    "--client-id",
    envvar="PIN_CLIENT_ID",
    metavar="ID",
    help=f"OAuth client id [env PIN_CLIENT_ID; default: the sandbox's {DEFAULT_CLIENT_ID}].",
)
@click.option(
    "--client-secret",
    envvar="PIN_CLIENT_SECRET",
    metavar="SECRET",
    help="OAuth client secret [env PIN_CLIENT_SECRET].",
)
@click.option(
    "--second-client-id",
    envvar="PIN_SECOND_CLIENT_ID",
    metavar="ID",
    help="A second client of the same target, for the tenancy probe [env PIN_SECOND_CLIENT_ID].",
)
@click.option(
    "--second-client-secret",
    envvar="PIN_SECOND_CLIENT_SECRET",
    metavar="SECRET",
    help="The second client's secret [env PIN_SECOND_CLIENT_SECRET].",
)
@click.option(
    "--webhook-receiver-url",
    envvar="PIN_WEBHOOK_RECEIVER_URL",
    metavar="URL",
    help="Where a remote target reaches the kit's webhook receiver (default: loopback, local "
    "targets only) [env PIN_WEBHOOK_RECEIVER_URL].",
)
@click.option(
    "--webhook-bind",
    envvar="PIN_WEBHOOK_BIND",
    metavar="HOST:PORT",
    help="Where the webhook receiver listens (default: an ephemeral loopback port).",
)
@click.option(
    "--spec",
    type=click.Path(dir_okay=False, path_type=Path),
    help="OpenAPI file (default: the bundled pin.yaml).",
)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Test cases per operation and phase.",
)
@click.option("--seed", type=int, help="Random seed, for a reproducible run.")
@click.option(
    "--phases",
    default=",".join(PHASE_NAMES),
    show_default=True,
    callback=_phases,
    help="Comma-separated phases; 'probes' are the kit's own (auth enforcement, statefulness).",
)
@click.option(
    "--include",
    multiple=True,
    metavar="OP",
    help="Only this operation: an operationId or 'GET /v1/patients' (repeatable).",
)
@click.option("--exclude", multiple=True, metavar="OP", help="Skip this operation (repeatable).")
@click.option(
    "--rate-limit",
    metavar="N/s",
    help="The kit's own pace, e.g. 20/s or 600/m (default: paced only if the client's budget is short).",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write junit.xml, failures.har and summary.txt here.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PIN_CONTRACT_CACHE_DIR",
    help="Keep Schemathesis's and Hypothesis's caches here [env PIN_CONTRACT_CACHE_DIR; "
    "default: a temporary directory, removed after the run].",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Concurrent Schemathesis workers.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds per request.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress, only the summary.")
def contract(quiet: bool, **options: object) -> None:
    """Test any PIN implementation against the contract (openapi/pin.yaml).

    Exit status: 0 when everything holds, 1 when a check fails, 2 for a usage
    problem or an unreachable target.
    """
    from pin_mock.contract.output.progress import choose_progress
    from pin_mock.contract.output.summary import render
    from pin_mock.contract.runner import ContractOptions, run_contract

    opts = ContractOptions(**options)  # type: ignore[arg-type]
    result = run_contract(opts, choose_progress(quiet=quiet))
    if result.exit_code == 2:
        # A usage problem or an unreachable target: one line, no traceback.
        click.echo(f"Error: {result.reason}", err=True)
        sys.exit(2)
    click.echo(render(result, opts.report_dir))
    sys.exit(result.exit_code)
