"""Coverage as people and tools read it: summary lines, ``coverage.md``, ``coverage.json``.

``coverage.md`` is self-contained Markdown (no images, no links out), so a CI
job can append it to its summary page (``$GITHUB_STEP_SUMMARY``) as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from pin_mock.contract.coverage import DIMENSIONS, TOTAL, Coverage, OperationCoverage


def _share(coverage: Coverage, name: str) -> str:
    measured = coverage.percent(name)
    if name == TOTAL:
        return "n/a" if measured is None else f"{measured:.0f}%"
    covered, total = coverage.counts(name)
    return f"{covered}/{total}" + ("" if measured is None else f" ({measured:.0f}%)")


def coverage_lines(coverage: Coverage) -> list[str]:
    """The summary's coverage lines: totals, floors."""
    parts = ", ".join(f"{name} {_share(coverage, name)}" for name in DIMENSIONS)
    lines = [f"coverage: {_share(coverage, TOTAL)} ({parts})"]
    if coverage.floors:
        floors = ", ".join(f"{n} >= {f:g}%" for n, f in sorted(coverage.floors.items()))
        lines.append(f"coverage floors: {floors}")
    return lines


def _cell(mapping: dict[str, bool]) -> str:
    if not mapping:
        return "-"
    return f"{sum(mapping.values())}/{len(mapping)}"


def _missing(row: OperationCoverage) -> str:
    parts = []
    statuses = [s for s, seen in row.statuses.items() if not seen]
    if statuses:
        parts.append("statuses " + ", ".join(statuses))
    params = [p for p, sent in row.parameters.items() if not sent]
    if params:
        parts.append("parameters " + ", ".join(params))
    return "; ".join(parts) or "-"


def markdown(coverage: Coverage) -> str:
    """The whole report as Markdown."""
    lines = [
        "## PIN contract coverage",
        "",
        "| dimension | covered | floor |",
        "|---|---|---|",
    ]
    for name in (TOTAL, *DIMENSIONS):
        floor = coverage.floors.get(name)
        lines.append(
            f"| {name} | {_share(coverage, name)} | {'-' if floor is None else f'{floor:g}%'} |"
        )
    lines += [
        "",
        "| operation | state | statuses | parameters | checks run | checks skipped | examples replayed | not seen |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in coverage.rows:
        replayed = sum(1 for why in row.examples.values() if not why)
        examples = f"{replayed}/{len(row.examples)}" if row.examples else "-"
        state = row.state if not row.why or row.state == "tested" else f"{row.state}: {row.why}"
        lines.append(
            f"| `{row.label}` | {_escape(state)} | {_cell(row.statuses)} | {_cell(row.parameters)} | "
            f"{len(row.checks_run)} | {len(row.checks_skipped)} | {examples} | {_escape(_missing(row))} |"
        )
    skipped = sorted(
        {(name, why) for row in coverage.rows for name, why in row.checks_skipped.items()}
    )
    if skipped:
        lines += ["", "### Checks skipped", ""]
        lines += [f"- `{name}`: {_escape(why)}" for name, why in skipped]
    unreplayed = sorted(
        {
            (row.label, name, why)
            for row in coverage.rows
            for name, why in row.examples.items()
            if why
        }
    )
    if unreplayed:
        lines += ["", "### Examples not replayed", ""]
        lines += [f"- `{label}` {name}: {_escape(why)}" for label, name, why in unreplayed]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_json(coverage: Coverage) -> dict:
    totals = {}
    for name in (TOTAL, *DIMENSIONS):
        entry: dict = {"percent": coverage.percent(name)}
        if name != TOTAL:
            entry["covered"], entry["total"] = coverage.counts(name)
        totals[name] = entry
    return {
        "totals": totals,
        "floors": coverage.floors,
        "operations": [
            {
                "operation": row.label,
                "operation_id": row.operation_id,
                "state": row.state,
                "why": row.why,
                "statuses": row.statuses,
                "parameters": row.parameters,
                "checks_run": {
                    k: {"held": v[0], "failed": v[1]} for k, v in sorted(row.checks_run.items())
                },
                "checks_skipped": row.checks_skipped,
                "examples": {
                    k: ("replayed" if not v else v) for k, v in sorted(row.examples.items())
                },
            }
            for row in coverage.rows
        ],
    }


def write_coverage(coverage: Coverage, report_dir: Path) -> None:
    (report_dir / "coverage.md").write_text(markdown(coverage), encoding="utf-8")
    (report_dir / "coverage.json").write_text(
        json.dumps(as_json(coverage), indent=2) + "\n", encoding="utf-8"
    )
