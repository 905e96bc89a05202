"""The options of one contract run, and the usage problems that stop it before it starts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pin_mock.contract.cleanup import CLEANUP_MODES
from pin_mock.contract.coverage import parse_floors
from pin_mock.contract.schemathesis_run import ST_PHASES
from pin_mock.contract.selection import OperationSelection

PHASES = (*ST_PHASES, "probes")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*([smh]))?\s*$")


class UsageProblem(Exception):
    """The run cannot start: bad options, unreadable spec, unreachable target (exit 2)."""


@dataclass
class ContractOptions:
    """The options of ``pin-mock contract`` (see ``command.py`` for their help)."""

    base_url: str
    client_id: str | None = None
    client_secret: str | None = None
    spec: Path | None = None
    max_examples: int = 10
    seed: int | None = None
    phases: tuple[str, ...] = PHASES
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_tag: tuple[str, ...] = ()
    exclude_tag: tuple[str, ...] = ()
    include_path: tuple[str, ...] = ()
    exclude_path: tuple[str, ...] = ()
    include_method: tuple[str, ...] = ()
    exclude_method: tuple[str, ...] = ()
    #: Test the operations the first pass finds not implemented (default: report them).
    include_unimplemented: bool = False
    #: Check names (``--checks``; ``None``: the default set) and ``--exclude-checks``.
    checks: tuple[str, ...] | None = None
    exclude_checks: tuple[str, ...] = ()
    rate_limit: str | None = None
    report_dir: Path | None = None
    workers: int = 1
    request_timeout: float = 10.0
    #: Where Schemathesis and Hypothesis keep their caches (default: a temporary directory).
    cache_dir: Path | None = None
    #: A second client of the target, for the tenancy and rate-limit isolation probes.
    second_client_id: str | None = None
    second_client_secret: str | None = None
    #: Where a remote target reaches the kit's webhook receiver, and where it listens.
    webhook_receiver_url: str | None = None
    webhook_bind: str | None = None
    #: ``always``: remove what the run created that the contract lets a client delete.
    cleanup: str = "always"
    #: Wait until this URL (absolute, or a path on the base URL) answers, up to ``wait_timeout``.
    wait_for: str | None = None
    wait_timeout: float = 60.0
    #: Coverage floors: ``70`` (the total) or ``statuses=60`` (one dimension).
    min_coverage: tuple[str, ...] = ()
    #: Where the documented examples' requests come from (default: the spec, or its sidecar).
    examples: Path | None = None

    @property
    def selection(self) -> OperationSelection:
        return OperationSelection(
            self.include, self.exclude, self.include_tag, self.exclude_tag,
            self.include_path, self.exclude_path, self.include_method, self.exclude_method,
        )  # fmt: skip


def parse_rate(value: str) -> tuple[float, str]:
    """``10/s``, ``600/m``, ``5`` -> (requests per second, Schemathesis's ``N/unit``)."""
    match = _RATE.match(value or "")
    if not match or float(match.group(1)) <= 0:
        raise UsageProblem(
            f"--rate-limit must look like 10/s, 600/m or 5 (per second), got {value!r}"
        )
    amount, unit = float(match.group(1)), match.group(2) or "s"
    per_second = amount / {"s": 1, "m": 60, "h": 3600}[unit]
    return per_second, f"{max(1, round(amount))}/{unit}"


def validate(options: ContractOptions) -> None:
    """Raise ``UsageProblem`` for options that cannot make a run."""
    parts = urlsplit(options.base_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageProblem(
            f"--base-url must be an http(s) URL like http://127.0.0.1:8080, got {options.base_url!r}"
        )
    unknown = [p for p in options.phases if p not in PHASES]
    if unknown or not options.phases:
        raise UsageProblem(
            f"--phases takes a comma-separated list of {', '.join(PHASES)}; got {','.join(options.phases)!r}"
        )
    if options.max_examples < 1:
        raise UsageProblem("--max-examples must be at least 1")
    if not 1 <= options.workers <= 64:
        raise UsageProblem("--workers must be between 1 and 64")
    if bool(options.client_id) != bool(options.client_secret):
        raise UsageProblem(
            "give both --client-id and --client-secret (or PIN_CLIENT_ID and PIN_CLIENT_SECRET)"
        )
    if options.rate_limit:
        parse_rate(options.rate_limit)
    if bool(options.second_client_id) != bool(options.second_client_secret):
        raise UsageProblem(
            "give both --second-client-id and --second-client-secret "
            "(or PIN_SECOND_CLIENT_ID and PIN_SECOND_CLIENT_SECRET)"
        )
    receiver = urlsplit(options.webhook_receiver_url or "http://x")
    if receiver.scheme not in ("http", "https") or not receiver.netloc:
        raise UsageProblem(
            f"--webhook-receiver-url must be an http(s) URL, got {options.webhook_receiver_url!r}"
        )
    if options.webhook_bind and not re.fullmatch(r"[^\s:]*:\d{1,5}", options.webhook_bind):
        raise UsageProblem(f"--webhook-bind must be HOST:PORT, got {options.webhook_bind!r}")
    if options.cleanup not in CLEANUP_MODES:
        raise UsageProblem(f"--cleanup takes {' or '.join(CLEANUP_MODES)}, got {options.cleanup!r}")
    if options.wait_timeout <= 0:
        raise UsageProblem("--wait-timeout must be a positive number of seconds")
    try:
        parse_floors(options.min_coverage)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    if options.examples is not None and not Path(options.examples).is_file():
        raise UsageProblem(f"--examples: no such file {options.examples}")
