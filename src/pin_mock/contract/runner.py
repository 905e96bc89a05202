"""One contract run: check the options, reach the target, probe it, run Schemathesis, judge.

Exit codes: 0 when everything holds, 1 when any check or probe fails (or the
run was mostly answered 429), 2 for a usage problem or an unreachable target,
always with a one-line reason.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pin_mock.contract.budget import Plan
from pin_mock.contract.budget import choose_pace as _choose_pace
from pin_mock.contract.findings import SECRETS, Finding, dedupe
from pin_mock.contract.output.progress import Progress
from pin_mock.contract.output.summary import verdict, write_reports
from pin_mock.contract.pacing import OverBudget, fit_run, read_target_budget, refit
from pin_mock.contract.probes.catalogue import all_probes
from pin_mock.contract.probes.framework import ProbeContext, ProbeResult, run_probes
from pin_mock.contract.safe_urls import ENV_RECEIVER_URL
from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from pin_mock.contract.schemathesis_auth import ENV_CLIENT_ID, ENV_CLIENT_SECRET
from pin_mock.contract.schemathesis_run import ST_PHASES, EventParser, StRunOutcome, StRunSettings
from pin_mock.contract.schemathesis_run import run as run_schemathesis
from pin_mock.contract.spec import Operation, Spec, SpecError, bundled_spec_path
from pin_mock.contract.target import Pacer, Target
from pin_mock.contract.tokens import Credentials, TokenError, TokenSource

PHASES = (*ST_PHASES, "probes")
#: A run whose answers are more than this share of 429s proves nothing: it fails.
MAX_429_SHARE = 0.5
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
    rate_limit: str | None = None
    report_dir: Path | None = None
    workers: int = 1
    request_timeout: float = 10.0
    #: Where Schemathesis and Hypothesis keep their caches (default: a temporary directory).
    cache_dir: Path | None = None
    #: A second client of the target, for the tenancy probe.
    second_client_id: str | None = None
    second_client_secret: str | None = None
    #: Where a remote target reaches the kit's webhook receiver, and where it listens.
    webhook_receiver_url: str | None = None
    webhook_bind: str | None = None


@dataclass
class ContractResult:
    """The verdict of a run."""

    exit_code: int
    reason: str
    findings: list[Finding] = field(default_factory=list)
    probes: list[ProbeResult] = field(default_factory=list)
    #: The probes' requests and how many of them were answered 429.
    probe_requests: int = 0
    probe_limited: int = 0
    schemathesis: StRunOutcome | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    token_url: str = ""
    client_id: str = ""
    base_url: str = ""
    #: When the run started (``time.monotonic()``): the reports show the real duration.
    started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


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


def choose_pace(
    remaining: int | None, seconds_to_reset: float | None, estimate: int
) -> float | None:
    """Requests per second that fit the budget when that is quick; ``None``: no pacing (see budget.py)."""
    return _choose_pace(remaining, seconds_to_reset, estimate)


def select_operations(
    ops: list[Operation], include: tuple[str, ...], exclude: tuple[str, ...]
) -> list[Operation]:
    """The operations an ``--include``/``--exclude`` (operationId or ``METHOD /path``) selects."""

    def matches(op: Operation, value: str) -> bool:
        value = value.strip()
        return (
            value == op.operation_id
            or value.upper().split(" ", 1)[0] == op.method.upper()
            and value.split(" ", 1)[-1].strip() == op.path
        )

    for value in (*include, *exclude):
        if not any(matches(op, value) for op in ops):
            raise UsageProblem(
                f"no operation of the spec matches {value!r} (use an operationId or 'GET /v1/patients')"
            )
    chosen = [op for op in ops if not include or any(matches(op, v) for v in include)]
    return [op for op in chosen if not any(matches(op, v) for v in exclude)]


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


def run_contract(options: ContractOptions, progress: Progress | None = None) -> ContractResult:
    """Run the whole kit against ``options.base_url``; never raises for a usage problem."""
    progress = progress or Progress()
    started = time.monotonic()
    try:
        result = _run(options, progress)
    except (UsageProblem, SpecError) as exc:
        result = ContractResult(2, str(exc), base_url=options.base_url)
    finally:
        progress.close()
    result.seconds = time.monotonic() - started
    return result


def _run(options: ContractOptions, progress: Progress) -> ContractResult:
    validate(options)
    spec_path = options.spec or bundled_spec_path()
    spec = Spec.load(spec_path)
    selected = select_operations(list(spec.operations), options.include, options.exclude)
    if not selected:
        raise UsageProblem("--include/--exclude leave no operation to test")
    base_url = options.base_url.rstrip("/")
    client_id, client_secret = options.client_id, options.client_secret
    notes = []
    if not client_id:
        client_id, client_secret = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
        notes.append(f"no credentials given: using the sandbox client {client_id}")
    creds = Credentials.for_target(base_url, spec.token_url, client_id, client_secret or "")
    tokens = TokenSource(creds, timeout=options.request_timeout)
    result = ContractResult(
        0, "", notes=notes, token_url=creds.token_url, client_id=client_id, base_url=base_url
    )
    _reach(base_url, options.request_timeout)
    try:
        tokens.token()
    except TokenError as exc:
        if exc.usage:
            raise UsageProblem(str(exc)) from None
        result.findings.append(
            Finding(
                "POST " + urlsplit(creds.token_url).path,
                "pin_token_issue",
                str(exc),
                source="probe",
            )
        )
        return _finish(result, options, spec_path)
    for note in notes:  # after the target answered: a usage error stays one line
        progress.note(note)

    SECRETS.add(client_secret, options.second_client_secret)
    st_phases = tuple(p for p in options.phases if p in ST_PHASES)
    probes = all_probes(spec, selected) if "probes" in options.phases else []
    pace, st_rate, plan, fitted = _pace(
        options, base_url, tokens, spec, selected, st_phases, result, progress, len(probes)
    )
    if "probes" in options.phases:
        target = Target(base_url, tokens, spec, pacer=Pacer(pace), timeout=options.request_timeout)
        try:
            ctx = ProbeContext(
                target, selected, client_id, client_secret,
                second_client_id=options.second_client_id,
                second_client_secret=options.second_client_secret,
                receiver_url=options.webhook_receiver_url, receiver_bind=options.webhook_bind,
            )  # fmt: skip
            result.probes = run_probes(
                ctx,
                probes,
                lambda r: progress.probe(r.name, len(r.findings), r.skipped),
            )
        finally:
            target.close()
        result.probe_requests, result.probe_limited = target.requests, target.limited
        if plan is not None and fitted:
            plan = _refit(
                plan, st_phases, options.max_examples, target, len(selected), result, progress
            )
    if st_phases and plan is not None:
        result.schemathesis = _schemathesis(
            options, spec_path, base_url, plan, st_rate, client_id, client_secret, progress
        )
    return _finish(result, options, spec_path)


def _reach(base_url: str, timeout: float) -> None:
    try:
        httpx.get(base_url + "/", timeout=timeout)
    except httpx.HTTPError as exc:
        raise UsageProblem(f"cannot reach {base_url}: {exc.__class__.__name__}: {exc}") from None


def _pace(
    options: ContractOptions, base_url: str, tokens: TokenSource, spec: Spec,
    selected: list[Operation], st_phases: tuple[str, ...], result: ContractResult, progress: Progress,
    probes: int,
) -> tuple[float | None, str | None, Plan | None, bool]:  # fmt: skip
    """Pace, Schemathesis plan, and whether that plan is fitted to a (believable) budget."""
    reading, why = None, ""
    listing = next(
        (op for op in selected if op.method == "get" and "{" not in op.path and op.requires(spec.oauth2_scheme)),
        None,
    )  # fmt: skip
    if not options.rate_limit and listing is not None:
        reading, why = read_target_budget(
            base_url + listing.path, tokens.token(), options.request_timeout
        )
    try:
        fit = fit_run(reading, why, client_id=result.client_id, operations=len(selected), phases=st_phases,
                      max_examples=options.max_examples, probes=probes)  # fmt: skip
    except OverBudget as exc:
        raise UsageProblem(str(exc)) from None
    for note in fit.notes:
        _note(result, progress, note)
    if options.rate_limit:
        return (*parse_rate(options.rate_limit), fit.plan, False)
    return fit.pace, fit.rate, fit.plan, fit.reading is not None and fit.pace is None


def _refit(
    plan: Plan, phases: tuple[str, ...], max_examples: int, target: Target, operations: int,
    result: ContractResult, progress: Progress,
) -> Plan | None:  # fmt: skip
    """After the probes: the plan fitted to the budget they really left.

    When the budget is spent but the probes already failed, the run still ends in
    those findings (exit 1, without Schemathesis): they are the answer, not the budget.
    """
    try:
        plan, note = refit(plan, max_examples, target.last_headers, target.last_at, operations,
                           result.client_id, phases)  # fmt: skip
    except OverBudget as exc:
        if not any(r.findings for r in result.probes):
            raise UsageProblem(str(exc)) from None
        _note(result, progress, f"Schemathesis not run: {exc}")
        return None
    if note:
        _note(result, progress, note)
    return plan


def _note(result: ContractResult, progress: Progress, note: str) -> None:
    result.notes.append(note)
    progress.note(note)


def _schemathesis(
    options: ContractOptions, spec_path: Path, base_url: str, plan: Plan, rate: str | None,
    client_id: str, client_secret: str | None, progress: Progress,
) -> StRunOutcome:  # fmt: skip
    report_dir = options.report_dir or Path(tempfile.mkdtemp(prefix="pin-contract-"))
    # Never the user's working directory: a throwaway directory unless one is configured.
    cache_dir = options.cache_dir or Path(tempfile.mkdtemp(prefix="pin-contract-cache-"))
    settings = StRunSettings(
        spec=spec_path, base_url=base_url, report_dir=report_dir, max_examples=plan.max_examples,
        seed=options.seed, phases=plan.phases, workers=options.workers, include=options.include,
        exclude=options.exclude, rate_limit=rate, request_timeout=options.request_timeout,
        cache_dir=cache_dir, env={ENV_CLIENT_ID: client_id, ENV_CLIENT_SECRET: client_secret or "",
                                  ENV_RECEIVER_URL: options.webhook_receiver_url or ""},
        coverage_mode=plan.coverage_mode,
    )  # fmt: skip
    try:
        return run_schemathesis(settings, EventParser(progress.event, Spec.load(spec_path)))
    finally:
        if options.report_dir is None:
            shutil.rmtree(report_dir, ignore_errors=True)
        if options.cache_dir is None:
            shutil.rmtree(cache_dir, ignore_errors=True)


def _finish(result: ContractResult, options: ContractOptions, spec_path: Path) -> ContractResult:
    """Collect the findings, write the reports, decide the exit code and its reason."""
    for probe in result.probes:
        result.findings.extend(probe.findings)
    if result.schemathesis is not None:
        result.findings.extend(result.schemathesis.findings)
    result.findings = dedupe(result.findings)
    result.exit_code, result.reason = verdict(result, MAX_429_SHARE)
    result.seconds = time.monotonic() - result.started
    if options.report_dir is not None:
        write_reports(result, options.report_dir)
    return result
