"""The verdict of a run and its human summary; the report files.

The summary lists the failures by root cause (one line per check and
normalised message, with its count and the operations it hit), each with one
``curl`` reproduction. Reproductions that need the run's own token use
``$PIN_TOKEN``; the summary says how to get one (the secret is never printed).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from pin_mock.contract.findings import group_causes, token_command
from pin_mock.contract.output.junit_har import (
    format_finding,
    probe_suite,
    schemathesis_suite,
    write_har,
    write_junit,
)

if TYPE_CHECKING:
    from pin_mock.contract.runner import ContractResult

SHOWN_CAUSES = 30
SHOWN_OPERATIONS = 6


def verdict(result: ContractResult, max_429_share: float) -> tuple[int, str]:
    """(exit code, one-line reason) for a finished run."""
    st = result.schemathesis
    if st is not None and st.fatal and not st.cases:
        return 2, f"Schemathesis could not run: {st.fatal}"
    if st is not None:
        total, limited = st.responses, st.statuses.get(429, 0)
        advice = "lower --rate-limit or use a client with a higher tier"
        if total and limited / total > max_429_share:
            return 1, (
                f"the run was dominated by 429 Too Many Requests ({limited} of {total} answers): "
                f"nothing was really tested; {advice}"
            )
        starved = st.warnings.get("rate_limited")
        if starved:
            return 1, (
                f"{len(starved)} operations were answered mostly with 429 Too Many Requests "
                f"({', '.join(starved[:3])}{', ...' if len(starved) > 3 else ''}): they were not "
                f"really tested; {advice}"
            )
    if result.probe_requests and result.probe_limited / result.probe_requests > max_429_share:
        return 1, (
            f"the probes were dominated by 429 Too Many Requests ({result.probe_limited} of "
            f"{result.probe_requests} answers): their findings prove little; use a client "
            "with a higher tier or wait for the window to reset"
        )
    if result.findings:
        operations = {f.operation for f in result.findings}
        causes = group_causes(result.findings)
        checks = Counter(c.check for c in causes)
        listed = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in checks.most_common())
        return 1, (
            f"{len(result.findings)} failures from {len(causes)} causes in "
            f"{len(operations)} operations ({listed})"
        )
    if st is not None and st.errors:
        return 1, f"errors during the Schemathesis run: {'; '.join(st.errors)}"
    if st is not None and st.exit_code != 0:
        return (
            1,
            f"Schemathesis exited with {st.exit_code} (see schemathesis-output.txt in --report-dir)",
        )
    if st is not None and st.operations_tested == 0:
        return 2, "Schemathesis tested no operation"
    return 0, _passed(result)


def _passed(result: ContractResult) -> str:
    parts = []
    probes = [p for p in result.probes if not p.skipped]
    if probes:
        parts.append(f"{len(probes)} probes")
    if result.schemathesis is not None:
        st = result.schemathesis
        parts.append(f"{st.cases} generated cases over {st.operations_tested} operations")
    return "the target honours the contract: " + ", ".join(parts or ["nothing selected"])


def render(result: ContractResult, report_dir: Path | None = None) -> str:
    """The end-of-run summary for the terminal or the CI log."""
    status = "PASSED" if result.exit_code == 0 else ("FAILED" if result.exit_code == 1 else "ERROR")
    lines = [
        f"pin-mock contract: {status} against {result.base_url} in {result.seconds:.1f} s",
        f"  {result.reason}",
    ]
    st = result.schemathesis
    probes = [p for p in result.probes if not p.skipped]
    if probes or st is not None:
        counts = []
        if probes:
            failing = sum(1 for p in probes if p.findings)
            counts.append(
                f"probes: {len(probes)} run, {failing} failing, {sum(p.requests for p in probes)} requests"
            )
        if st is not None:
            counts.append(
                f"schemathesis: {st.cases} cases, {st.responses} answers, {st.seconds:.1f} s"
            )
        lines.append("  " + "; ".join(counts))
    for note in result.notes:
        lines.append(f"  note: {note}")
    if st is not None:
        for kind, labels in sorted(st.warnings.items()):
            lines.append(
                f"  warning ({kind}): {', '.join(labels[:5])}{' ...' if len(labels) > 5 else ''}"
            )
    if result.findings:
        causes = group_causes(result.findings)
        lines += ["", f"Failures: {len(result.findings)} from {len(causes)} causes"]
        for number, cause in enumerate(causes[:SHOWN_CAUSES], 1):
            example = cause.example
            ops = cause.operations
            shown = ", ".join(ops[:SHOWN_OPERATIONS]) + (
                f", ... ({len(ops)} operations)" if len(ops) > SHOWN_OPERATIONS else ""
            )
            first = example.message.strip().splitlines()[0] if example.message.strip() else ""
            lines.append(f"{number:>3}. {len(cause.findings)}x {cause.check}: {first}")
            lines.append(f"       on {shown}")
            lines.append("       e.g. " + format_finding(example).replace("\n", "\n       "))
        if len(causes) > SHOWN_CAUSES:
            lines.append(f"  ... and {len(causes) - SHOWN_CAUSES} more causes (see junit.xml)")
        if any("$PIN_TOKEN" in (c.example.curl() or "") for c in causes):
            lines += [
                "",
                "Reproductions use $PIN_TOKEN; get one with:",
                "  " + token_command(result.token_url, result.client_id),
            ]
    if report_dir is not None:
        lines += ["", f"Reports: {report_dir / 'junit.xml'}, {report_dir / 'failures.har'}"]
    return "\n".join(lines)


def write_reports(result: ContractResult, report_dir: Path) -> None:
    """``junit.xml`` (Schemathesis and probes), ``failures.har``, ``summary.txt``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    probes = None
    if result.probes:
        probes = probe_suite((p.name, p.seconds, p.findings, p.skipped) for p in result.probes)
    st = result.schemathesis
    st_suite = None
    if st is not None:
        found = [f for f in result.findings if f.source == "schemathesis"]
        st_suite = schemathesis_suite(st.outcomes, found, st.seconds)
    write_junit(report_dir / "junit.xml", st_suite, probes)
    write_har(report_dir / "failures.har", result.findings)
    (report_dir / "summary.txt").write_text(render(result) + "\n", encoding="utf-8")
