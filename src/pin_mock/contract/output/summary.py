"""The end-of-run summary, and the report files of ``--report-dir``.

The summary lists every failure by root cause (one line per check and
normalised message, with the operations it hit), each with one ``curl``
reproduction; nothing is cut off, and skipped probes are listed with their
reasons. Reproductions that need the run's own token use ``$PIN_TOKEN``; the
summary says how to get one (the secret is never printed).

Report files (``REPORT_FILES``; the README lists them too): ``summary.txt``,
``junit.xml``, ``failures.har`` (the failing exchanges, a cassette for
``pin-mock contract replay``), ``coverage.md`` and ``coverage.json``,
``resources.json`` (what the run created and whether it was removed), and
``schemathesis/`` (Schemathesis's own output and reports, for digging deeper).
"""

from __future__ import annotations

import json
from pathlib import Path

from pin_mock.contract.findings import group_causes, token_command
from pin_mock.contract.output.cases import all_cases, failing_cases
from pin_mock.contract.output.coverage_report import coverage_lines, write_coverage
from pin_mock.contract.output.har import write_har
from pin_mock.contract.output.junit import write_junit
from pin_mock.contract.output.text import format_finding
from pin_mock.contract.result import ContractResult

SHOWN_OPERATIONS = 6
REPORT_FILES = {
    "summary.txt": "this summary",
    "junit.xml": "one test case per operation and check, per probe, per coverage floor",
    "failures.har": "the failing exchanges (HAR 1.2); replay with pin-mock contract replay",
    "coverage.md": "coverage per operation (Markdown, for a CI job summary)",
    "coverage.json": "the same coverage, for tools",
    "resources.json": "what the run created on the target, and whether it was removed",
    "schemathesis/": "Schemathesis's own output and reports",
}
#: What Schemathesis's warnings mean for a PIN run.
WARNINGS = {
    "validation_mismatch": (
        "these operations refused most generated data with 4xx. For the token endpoint "
        "that is right: generated client ids and secrets are nobody's, so RFC 6749 "
        "asks for invalid_client. Elsewhere it can mean the implementation validates "
        "more strictly than the spec says"
    ),
    "missing_test_data": "these operations answered mostly 404: their generated ids name nothing",
    "missing_auth": (
        "these operations answered mostly 401. For the token endpoint that is right "
        "(generated credentials are nobody's); elsewhere the run's token was refused"
    ),
    "rate_limited": "these operations were answered mostly with 429",
}


def render(result: ContractResult, report_dir: Path | None = None) -> str:
    """The end-of-run summary for the terminal or the CI log."""
    status = {0: "PASSED", 1: "FAILED"}.get(result.exit_code, "ERROR")
    lines = [
        f"pin-mock contract: {status} against {result.base_url} in {result.seconds:.1f} s",
        f"  {result.reason}",
    ]
    lines += _counts(result)
    if result.not_implemented:
        labels = sorted(result.not_implemented)
        lines.append(
            f"  not implemented ({len(labels)}, not tested: they answered only 404, 405 or 501; "
            "--include-unimplemented tests them): " + ", ".join(labels)
        )
    if result.coverage is not None:
        lines += ["  " + line for line in coverage_lines(result.coverage)]
    if result.ledger is not None and result.ledger.created:
        lines.append("  created: " + result.ledger.describe())
    for note in result.notes:
        lines.append(f"  note: {note}")
    st = result.schemathesis
    for kind, labels in sorted((st.warnings if st is not None else {}).items()):
        meaning = WARNINGS.get(kind, "see schemathesis/output.txt")
        lines.append(f"  warning ({kind}): {', '.join(labels)}: {meaning}")
    skipped = result.skipped_probes
    if skipped:
        lines += ["", f"Skipped probes ({len(skipped)}):"]
        lines += [f"  - {p.name}: {p.skipped}" for p in skipped]
    if result.skipped_checks:
        lines += ["", f"Checks left out ({len(result.skipped_checks)}):"]
        lines += [f"  - {name}: {why}" for name, why in sorted(result.skipped_checks.items())]
    lines += _failures(result)
    if report_dir is not None:
        lines += ["", f"Reports in {report_dir}:"]
        lines += [f"  {name:<15} {what}" for name, what in REPORT_FILES.items()]
    return "\n".join(lines)


def _counts(result: ContractResult) -> list[str]:
    counts = []
    if result.probes:
        run, skipped = result.run_probes, result.skipped_probes
        failing = sum(1 for p in run if p.findings)
        requests = sum(p.requests for p in run)
        counts.append(
            f"probes: {len(result.probes)} ({len(run)} run, {failing} failing, "
            f"{len(skipped)} skipped; {requests} requests)"
        )
    st = result.schemathesis
    if st is not None:
        counts.append(f"schemathesis: {st.cases} cases, {st.responses} answers, {st.seconds:.1f} s")
    return ["  " + "; ".join(counts)] if counts else []


def _failures(result: ContractResult) -> list[str]:
    if not result.findings:
        return []
    causes = group_causes(result.findings)
    failing = len(failing_cases(result))
    lines = [
        "",
        f"Failures: {failing} failing test cases from {len(causes)} causes "
        f"({len(result.findings)} distinct failing exchanges)",
    ]
    for number, cause in enumerate(causes, 1):
        example = cause.example
        ops = cause.operations
        shown = ", ".join(ops[:SHOWN_OPERATIONS]) + (
            f", ... ({len(ops)} operations)" if len(ops) > SHOWN_OPERATIONS else ""
        )
        first = example.message.strip().splitlines()[0] if example.message.strip() else ""
        lines.append(f"{number:>3}. {cause.check}: {first}")
        lines.append(f"       {len(cause.findings)} exchanges on {shown}")
        lines.append("       e.g. " + format_finding(example).replace("\n", "\n       "))
    if any("$PIN_TOKEN" in (c.example.curl() or "") for c in causes):
        lines += [
            "",
            "Reproductions use $PIN_TOKEN; get one with:",
            "  " + token_command(result.token_url, result.client_id),
        ]
    return lines


def write_reports(result: ContractResult, report_dir: Path) -> None:
    """Every file of ``REPORT_FILES`` (Schemathesis's are already in ``schemathesis/``)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    properties = result.coverage.properties() if result.coverage is not None else None
    write_junit(report_dir / "junit.xml", all_cases(result), properties, result.seconds)
    write_har(report_dir / "failures.har", result.findings)
    if result.coverage is not None:
        write_coverage(result.coverage, report_dir)
    if result.ledger is not None:
        (report_dir / "resources.json").write_text(
            json.dumps(result.ledger.as_json(), indent=2) + "\n", encoding="utf-8"
        )
    (report_dir / "summary.txt").write_text(render(result, report_dir) + "\n", encoding="utf-8")
