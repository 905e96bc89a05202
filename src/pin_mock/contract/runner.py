"""One contract run: check the options, wait for and reach the target, find what it
implements, probe it, run Schemathesis, clean up, measure the coverage, judge.

Exit codes: 0 when everything holds, 1 when any check or probe fails (or a
coverage floor is not met, or the run was mostly answered 429), 2 for a usage
problem or an unreachable target, always with a one-line reason.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pin_mock.contract.budget import Plan
from pin_mock.contract.budget import choose_pace as _choose_pace
from pin_mock.contract.checks.catalogue import CHECK_NAMES
from pin_mock.contract.cleanup import Ledger
from pin_mock.contract.coverage import Observations, measure, parse_floors
from pin_mock.contract.discovery import not_implemented, partial_artifacts
from pin_mock.contract.examples import default_source, documented_examples
from pin_mock.contract.findings import SECRETS, Finding, dedupe
from pin_mock.contract.options import PHASES, ContractOptions, UsageProblem, parse_rate, validate
from pin_mock.contract.output.progress import Progress
from pin_mock.contract.output.summary import write_reports
from pin_mock.contract.pacing import OverBudget, fit_run, read_target_budget, refit
from pin_mock.contract.probes.catalogue import all_probes, probe_check_names
from pin_mock.contract.probes.framework import ProbeContext, run_probes
from pin_mock.contract.probes.webhooks import is_local
from pin_mock.contract.receiver import Receiver
from pin_mock.contract.result import ContractResult, ProbeResult
from pin_mock.contract.safe_urls import ENV_RECEIVER_URL, INVALID_URL
from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from pin_mock.contract.schemathesis_auth import ENV_CLIENT_ID, ENV_CLIENT_SECRET
from pin_mock.contract.schemathesis_run import ST_PHASES, EventParser, StRunOutcome, StRunSettings
from pin_mock.contract.schemathesis_run import run as run_schemathesis
from pin_mock.contract.selection import SCHEMATHESIS_CHECKS, CheckSelection, SelectionError
from pin_mock.contract.spec import Operation, Spec, SpecError, bundled_spec_path
from pin_mock.contract.target import Pacer, Target
from pin_mock.contract.tokens import Credentials, TokenError, TokenSource
from pin_mock.contract.verdict import MAX_429_SHARE, verdict
from pin_mock.contract.waiting import readiness_url, wait_until_ready

__all__ = [
    "PHASES", "ContractOptions", "ContractResult", "UsageProblem", "choose_pace", "known_checks",
    "parse_rate", "run_contract", "select_operations",
]  # fmt: skip
CLEANUP_PROBE = "cleanup: remove what the run created"


def choose_pace(
    remaining: int | None, seconds_to_reset: float | None, estimate: int
) -> float | None:
    """Requests per second that fit the budget when that is quick; ``None``: no pacing (see budget.py)."""
    return _choose_pace(remaining, seconds_to_reset, estimate)


def select_operations(
    ops: list[Operation], include: tuple[str, ...], exclude: tuple[str, ...]
) -> list[Operation]:
    """The operations an ``--include``/``--exclude`` (operationId or ``METHOD /path``) selects."""
    from pin_mock.contract.selection import OperationSelection

    try:
        return OperationSelection(include, exclude).select(ops)
    except SelectionError as exc:
        raise UsageProblem(str(exc)) from None


def known_checks(spec: Spec) -> frozenset[str]:
    """Every check name a run can report: PIN's registered ones, the probes', Schemathesis's."""
    return frozenset(CHECK_NAMES) | probe_check_names(spec) | SCHEMATHESIS_CHECKS


def run_contract(options: ContractOptions, progress: Progress | None = None) -> ContractResult:
    """Run the whole kit against ``options.base_url``; never raises for a usage problem."""
    progress = progress or Progress()
    started = time.monotonic()
    result = ContractResult(0, "", base_url=options.base_url)
    try:
        _run(options, progress, result)
    except (UsageProblem, SpecError) as exc:
        result = ContractResult(2, str(exc), base_url=options.base_url)
    finally:
        progress.close()
    result.seconds = time.monotonic() - started
    return result


def _run(options: ContractOptions, progress: Progress, result: ContractResult) -> None:
    validate(options)
    spec_path = options.spec or bundled_spec_path()
    spec = Spec.load(spec_path)
    try:
        selected = options.selection.select(list(spec.operations))
        checks = CheckSelection.parse(options.checks, options.exclude_checks, known_checks(spec))
    except SelectionError as exc:
        raise UsageProblem(str(exc)) from None
    if not selected:
        raise UsageProblem("the selection (--include*/--exclude*) leaves no operation to test")
    floors = parse_floors(options.min_coverage)
    examples = documented_examples(spec, options.examples or default_source(spec_path))
    base_url = options.base_url.rstrip("/")
    result.base_url = base_url
    client_id, client_secret = options.client_id, options.client_secret
    if not client_id:
        client_id, client_secret = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
        result.notes.append(f"no credentials given: using the sandbox client {client_id}")
    creds = Credentials.for_target(base_url, spec.token_url, client_id, client_secret or "")
    tokens = TokenSource(creds, timeout=options.request_timeout)
    result.token_url, result.client_id = creds.token_url, client_id
    result.skipped_checks = {
        n: checks.why_not(n) for n in sorted(known_checks(spec)) if not checks.enabled(n)
    }
    if options.wait_for is not None:
        _wait(base_url, options, progress)
    _reach(base_url, options.request_timeout)
    try:
        tokens.token()
    except TokenError as exc:
        if exc.usage:
            raise UsageProblem(str(exc)) from None
        found = Finding(
            "POST " + urlsplit(creds.token_url).path, "pin_token_issue", str(exc), source="probe"
        )
        result.probes.append(ProbeResult("a token for the run", [found]))
        _finish(result, options, spec, selected, floors, examples, None)
        return
    for note in result.notes:  # after the target answered: a usage error stays one line
        progress.note(note)
    SECRETS.add(client_secret, options.second_client_secret)
    observations, ledger = Observations(spec), Ledger(spec)
    result.ledger = ledger
    with contextlib.ExitStack() as stack:
        receiver = _receiver(options, base_url, stack)
        target = Target(base_url, tokens, spec, timeout=options.request_timeout, checks=checks,
                        observations=observations, ledger=ledger)  # fmt: skip
        stack.callback(target.close)
        receiver_base = _receiver_base(options, receiver)
        tested = _implemented(options, spec, selected, target, receiver_base, result, progress)
        st_phases = tuple(p for p in options.phases if p in ST_PHASES)
        probes = all_probes(spec, tested, examples) if "probes" in options.phases else []
        pace, st_rate, plan, fitted = _pace(options, base_url, tokens, spec, tested, st_phases, result,
                                            progress, len(probes))  # fmt: skip
        target.pacer = Pacer(pace)
        if probes:
            ctx = ProbeContext(
                target, tested, client_id, client_secret,
                second_client_id=options.second_client_id,
                second_client_secret=options.second_client_secret,
                receiver_url=options.webhook_receiver_url, receiver_bind=options.webhook_bind,
                receiver=receiver, examples=examples,
                unimplemented=frozenset(op.operation_id for op in selected if op.label in result.not_implemented),
            )  # fmt: skip
            before = target.requests, target.limited
            result.probes = run_probes(
                ctx, probes, lambda r: progress.probe(r.name, len(r.findings), r.skipped)
            )
            result.probe_requests = target.requests - before[0]
            result.probe_limited = target.limited - before[1]
            if ctx.rate_limited:
                _note(result, progress, f"{ctx.rate_limited} probe expectations met a 429 (the target's rate "
                      "limit) and were not judged")  # fmt: skip
            if plan is not None and fitted:
                plan = _refit(
                    plan, st_phases, options.max_examples, target, len(tested), result, progress
                )
        if st_phases and plan is not None and tested:
            fuzzed_url = f"{receiver_base}/pin-contract/fuzzed" if receiver_base else ""
            result.schemathesis = _schemathesis(options, spec, spec_path, base_url, plan, st_rate, client_id,
                                                client_secret, progress, tested, checks, fuzzed_url,
                                                observations, ledger)  # fmt: skip
        _cleanup(options, ledger, target, result)
    _finish(result, options, spec, selected, floors, examples, observations)


def _wait(base_url: str, options: ContractOptions, progress: Progress) -> None:
    url = readiness_url(base_url, options.wait_for or "/")
    progress.note(f"waiting up to {options.wait_timeout:g} s for {url} ...")
    ready, last, waited = wait_until_ready(url, options.wait_timeout)
    if not ready:
        raise UsageProblem(f"{url} was not ready within {options.wait_timeout:g} s (last: {last})")
    progress.note(f"{url} answered {last} after {waited:.1f} s")


def _reach(base_url: str, timeout: float) -> None:
    try:
        httpx.get(base_url + "/", timeout=timeout)
    except httpx.HTTPError as exc:
        raise UsageProblem(
            f"cannot reach {base_url}: {exc.__class__.__name__}: {exc} "
            "(a target still starting? --wait-for waits for it)"
        ) from None


def _receiver(
    options: ContractOptions, base_url: str, stack: contextlib.ExitStack
) -> Receiver | None:
    """The webhook receiver for the whole run: for a local target, or where the user binds it."""
    if options.webhook_bind:
        host, _, port = options.webhook_bind.rpartition(":")
        return stack.enter_context(Receiver(host or "0.0.0.0", int(port)))
    if options.webhook_receiver_url is None and is_local(base_url):
        return stack.enter_context(Receiver("127.0.0.1", 0))
    return None


def _receiver_base(options: ContractOptions, receiver: Receiver | None) -> str | None:
    if options.webhook_receiver_url:
        return options.webhook_receiver_url.rstrip("/")
    if receiver is not None:
        return "http://{}:{}".format(*receiver.address)
    return None


def _implemented(
    options: ContractOptions, spec: Spec, selected: list[Operation], target: Target,
    receiver_base: str | None, result: ContractResult, progress: Progress,
) -> list[Operation]:  # fmt: skip
    """The selected operations minus those the first pass finds not implemented."""
    if options.include_unimplemented:
        return selected
    candidates = [op for op in selected if not options.selection.asked_for(op)]
    safe_url = f"{receiver_base}/pin-contract/parked" if receiver_base else INVALID_URL
    result.not_implemented = not_implemented(target, spec, candidates, safe_url)
    if result.not_implemented:
        progress.note(
            f"not implemented, not tested: {len(result.not_implemented)} of {len(selected)} operations "
            f"({', '.join(sorted(result.not_implemented))})"
        )
    return [op for op in selected if op.label not in result.not_implemented]


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
        fit = fit_run(reading, why, client_id=result.client_id, operations=max(1, len(selected)),
                      phases=st_phases, max_examples=options.max_examples, probes=probes)  # fmt: skip
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
    options: ContractOptions, spec: Spec, spec_path: Path, base_url: str, plan: Plan, rate: str | None,
    client_id: str, client_secret: str | None, progress: Progress, tested: list[Operation],
    checks: CheckSelection, receiver_url: str, observations: Observations, ledger: Ledger,
) -> StRunOutcome:  # fmt: skip
    report_dir = options.report_dir or Path(tempfile.mkdtemp(prefix="pin-contract-"))
    # Never the user's working directory: a throwaway directory unless one is configured.
    cache_dir = options.cache_dir or Path(tempfile.mkdtemp(prefix="pin-contract-cache-"))
    every = {op.label for op in spec.operations}
    names = () if {op.label for op in tested} == every else tuple(op.label for op in tested)
    settings = StRunSettings(
        spec=spec_path, base_url=base_url, report_dir=report_dir / "schemathesis",
        max_examples=plan.max_examples, seed=options.seed, phases=plan.phases, workers=options.workers,
        include=names, rate_limit=rate, request_timeout=options.request_timeout, cache_dir=cache_dir,
        env={ENV_CLIENT_ID: client_id, ENV_CLIENT_SECRET: client_secret or "", ENV_RECEIVER_URL: receiver_url},
        coverage_mode=plan.coverage_mode,
        exclude_checks=tuple(sorted(n for n in SCHEMATHESIS_CHECKS | set(CHECK_NAMES) if not checks.enabled(n))),
    )  # fmt: skip
    parser = EventParser(progress.event, spec, observations=observations, ledger=ledger)
    try:
        return run_schemathesis(settings, parser)
    finally:
        if options.report_dir is None:
            shutil.rmtree(report_dir, ignore_errors=True)
        if options.cache_dir is None:
            shutil.rmtree(cache_dir, ignore_errors=True)


def _cleanup(
    options: ContractOptions, ledger: Ledger, target: Target, result: ContractResult
) -> None:
    """Remove what the run created (``--cleanup always``), as a probe of its own in the reports."""
    if options.cleanup == "never":
        ledger.leave()
        return
    before, requests, started = len(target.findings), target.requests, time.monotonic()

    def send(method: str, path: str, template: str) -> int:
        return target.request(method, path, template=template).status

    ledger.clean(send)
    if target.requests > requests:
        found = target.findings[before:]
        seconds = time.monotonic() - started
        result.probes.append(
            ProbeResult(CLEANUP_PROBE, found, seconds, None, target.requests - requests)
        )


def _finish(
    result: ContractResult, options: ContractOptions, spec: Spec, selected: list[Operation],
    floors: dict[str, float], examples: list, observations: Observations | None,
) -> None:  # fmt: skip
    """Collect the findings, measure the coverage, write the reports, decide the verdict."""
    partial_artifacts(result)
    for probe in result.probes:
        result.findings.extend(probe.findings)
    if result.schemathesis is not None:
        result.findings.extend(result.schemathesis.findings)
    result.findings = dedupe(result.findings)
    if observations is not None:
        documented: dict[str, dict[str, str]] = {}
        for example in examples:
            documented.setdefault(example.operation.label, {})[example.key] = (
                example.why_not or "not replayed"
            )
        result.coverage = measure(
            spec, observations, selected=selected, not_implemented=result.not_implemented,
            skipped_checks=result.skipped_checks,
            skipped_probe_checks=[(p.needs, p.checks, p.skipped or "") for p in result.probes if p.skipped],
            examples=documented, floors=floors,
        )  # fmt: skip
        result.below_floor = result.coverage.below()
    result.exit_code, result.reason = verdict(result, MAX_429_SHARE)
    result.seconds = time.monotonic() - result.started
    if options.report_dir is not None:
        write_reports(result, options.report_dir)
