"""``pin-mock proxy`` and ``pin-mock diff``: the kit's tools besides ``contract``.

Importing this module is cheap (click only); each command imports its
machinery when it runs.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--upstream", required=True, metavar="URL", help="The implementation to forward to.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=int, default=8081, show_default=True, help="Port to listen on (0: any free one)."
)
@click.option("--spec", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="OpenAPI file (default: the bundled pin.yaml).")  # fmt: skip
@click.option("--judge", type=click.Choice(["responses", "requests", "both"]), default="responses", show_default=True,
              help="Judge the answers (for implementers), the requests (for integrators), or both.")  # fmt: skip
@click.option(
    "--checks", multiple=True, metavar="NAMES", help="Only these checks (as pin-mock contract)."
)
@click.option("--exclude-checks", multiple=True, metavar="NAMES", help="Leave these checks out.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("proxy-report"),
              show_default=True, help="Where the reports go when the proxy stops.")  # fmt: skip
def proxy(**options: Any) -> None:
    """Forward traffic to --upstream and judge every exchange against the contract.

    Stop it with Ctrl-C or SIGTERM: it writes summary.txt, junit.xml,
    failures.har, traffic.har and coverage.md/.json to --report-dir. Exit
    status: 0 when no exchange broke the contract, 1 otherwise, 2 for a usage
    problem.
    """
    from pin_mock.contract.proxy import ProxyOptions, ValidatingProxy, write_reports
    from pin_mock.contract.runner import known_checks
    from pin_mock.contract.selection import CheckSelection, SelectionError
    from pin_mock.contract.spec import Spec, SpecError, bundled_spec_path

    spec_path = options["spec"] or bundled_spec_path()
    try:
        checks = CheckSelection.parse(options["checks"] or None, options["exclude_checks"],
                                      known_checks(Spec.load(spec_path)))  # fmt: skip
        running = ValidatingProxy(ProxyOptions(options["upstream"].rstrip("/"), spec_path, options["host"],
                                               options["port"], options["report_dir"], options["judge"], checks))  # fmt: skip
    except (SelectionError, SpecError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        running.serve(
            lambda: click.echo(f"pin-mock proxy: {running.url} -> {options['upstream']}", err=True)
        )
    except OSError as exc:
        click.echo(f"Error: cannot listen on {options['host']}:{options['port']}: {exc}", err=True)
        sys.exit(2)
    running.stop()
    click.echo(write_reports(running, options["report_dir"]))
    sys.exit(1 if running.findings else 0)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("old", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the changes as JUnit XML.",
)
@click.option("--all", "show_all", is_flag=True, help="List the non-breaking changes too.")
def diff(old: Path, new: Path, junit: Path | None, show_all: bool) -> None:
    """Compare two revisions of the contract, from its clients' side.

    Exit status: 0 when NEW breaks no client of OLD, 1 when it does, 2 when a
    file cannot be read.
    """
    from pin_mock.contract.diff import compare, render, write_junit
    from pin_mock.contract.spec import SpecError

    try:
        changes = compare(old, new)
    except SpecError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(render(changes, show_all=show_all))
    if junit is not None:
        write_junit(changes, junit)
    sys.exit(1 if any(c.breaking for c in changes) else 0)
