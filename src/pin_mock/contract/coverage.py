"""What a run covered, per operation, and the floors a team can set on it.

``Observations`` collects, while the run goes, what was sent and seen for each
operation of the spec (by ``METHOD /template``): the statuses answered, the
parameters sent, the checks that judged an answer (and whether it held), and
the documented examples replayed or why not. ``measure`` turns that into a
``Coverage`` with five dimensions, each a share of what the spec documents:

- **operations**: the spec's operations the run tested (not selected, not
  implemented and unanswered ones are listed with why);
- **statuses**: of the tested operations, documented statuses (exact codes) answered;
- **parameters**: documented parameters (path, query, header) sent at least once;
- **checks**: checks that judged an answer, over those plus the checks skipped
  for it (excluded, or a probe that could not run), each with its reason;
- **examples**: documented response examples replayed, over all of them.

The total is the mean of the dimensions that have anything to measure.
``--min-coverage 70`` sets a floor on the total, ``--min-coverage statuses=60``
on one dimension.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from pin_mock.contract.spec import Operation, Spec

DIMENSIONS = ("operations", "statuses", "parameters", "checks", "examples")
TOTAL = "total"


class Observations:
    """What the run sent and saw, by operation label (thread-safe)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self.statuses: dict[str, Counter] = {}
        self.parameters: dict[str, set[tuple[str, str]]] = {}
        self.checks: dict[str, dict[str, list[int]]] = {}
        self.examples: dict[str, dict[str, str]] = {}

    def label(self, method: str, url: str) -> str | None:
        """The spec operation a request reached (``None``: not one of the spec's)."""
        path = urlsplit(url).path or "/"
        template = self.spec.template_of(path)
        if template is None or self.spec.find(method, template) is None:
            return None
        return f"{method.upper()} {template}"

    def exchange(self, method: str, url: str, status: int, headers: list[str] = ()) -> str | None:
        """One request and its answer's status; returns the operation label."""
        label = self.label(method, url)
        if label is None:
            return None
        sent = {("query", k) for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
        sent |= {("header", h.lower()) for h in headers}
        with self._lock:
            self.statuses.setdefault(label, Counter())[status] += 1
            self.parameters.setdefault(label, set()).update(sent)
        return label

    def check(self, label: str, check: str, held: bool) -> None:
        with self._lock:
            counts = self.checks.setdefault(label, {}).setdefault(check, [0, 0])
            counts[0 if held else 1] += 1

    def example(self, label: str, name: str, why_not: str = "") -> None:
        """A documented example: replayed (``why_not`` empty), or why it was not."""
        with self._lock:
            known = self.examples.setdefault(label, {})
            if not known.get(name) == "":  # once replayed, it stays replayed
                known[name] = why_not


@dataclass
class OperationCoverage:
    """One operation's coverage (``state``: tested, not selected, not implemented, no answer)."""

    label: str
    operation_id: str
    state: str
    statuses: dict[str, bool] = field(default_factory=dict)
    parameters: dict[str, bool] = field(default_factory=dict)
    checks_run: dict[str, list[int]] = field(default_factory=dict)
    checks_skipped: dict[str, str] = field(default_factory=dict)
    #: Example name -> '' when replayed, else why not.
    examples: dict[str, str] = field(default_factory=dict)
    why: str = ""


@dataclass
class Coverage:
    rows: list[OperationCoverage]
    floors: dict[str, float] = field(default_factory=dict)

    def counts(self, dimension: str) -> tuple[int, int]:
        """(covered, total) of a dimension, over the tested operations (operations: all)."""
        if dimension == "operations":
            return sum(r.state == "tested" for r in self.rows), len(self.rows)
        tested = [r for r in self.rows if r.state == "tested"]
        if dimension == "statuses":
            return _pool(r.statuses for r in tested)
        if dimension == "parameters":
            return _pool(r.parameters for r in tested)
        if dimension == "checks":
            run = sum(len(r.checks_run) for r in tested)
            return run, run + sum(len(r.checks_skipped) for r in tested)
        if dimension == "examples":
            return sum(not w for r in tested for w in r.examples.values()), sum(
                len(r.examples) for r in tested
            )
        raise ValueError(dimension)

    def percent(self, dimension: str) -> float | None:
        """A dimension's share in percent, the total's mean; ``None``: nothing to measure."""
        if dimension == TOTAL:
            shares = [p for d in DIMENSIONS if (p := self.percent(d)) is not None]
            return sum(shares) / len(shares) if shares else None
        covered, total = self.counts(dimension)
        return 100.0 * covered / total if total else None

    def below(self) -> list[tuple[str, float, float]]:
        """The floors not met: (dimension, floor, measured)."""
        missed = []
        for name, floor in self.floors.items():
            measured = self.percent(name)
            if measured is not None and measured + 1e-9 < floor:
                missed.append((name, floor, measured))
        return missed

    def properties(self) -> dict[str, str]:
        """The totals as JUnit properties (``coverage.statuses`` = ``61.5``, with counts)."""
        found = {}
        for name in (TOTAL, *DIMENSIONS):
            measured = self.percent(name)
            found[f"coverage.{name}"] = "n/a" if measured is None else f"{measured:.1f}"
            if name != TOTAL:
                covered, total = self.counts(name)
                found[f"coverage.{name}.covered"] = str(covered)
                found[f"coverage.{name}.total"] = str(total)
        for name, floor in self.floors.items():
            found[f"coverage.floor.{name}"] = f"{floor:g}"
        return found


def _pool(maps) -> tuple[int, int]:
    covered = total = 0
    for values in maps:
        covered += sum(values.values())
        total += len(values)
    return covered, total


def parse_floors(values: tuple[str, ...]) -> dict[str, float]:
    """``("70", "statuses=60")`` -> ``{"total": 70, "statuses": 60}`` (``ValueError`` names the bad one)."""
    floors = {}
    for value in values:
        name, _, number = value.rpartition("=")
        name = name.strip().lower() or TOTAL
        if name not in (TOTAL, *DIMENSIONS):
            raise ValueError(
                f"--min-coverage {value!r}: the dimension must be one of {', '.join((TOTAL, *DIMENSIONS))}"
            )
        try:
            floor = float(number.rstrip("%"))
        except ValueError:
            raise ValueError(
                f"--min-coverage {value!r}: give a percentage, like 70 or statuses=60"
            ) from None
        if not 0 <= floor <= 100:
            raise ValueError(f"--min-coverage {value!r}: a percentage is between 0 and 100")
        floors[name] = floor
    return floors


def measure(
    spec: Spec,
    observed: Observations,
    *,
    selected: list[Operation],
    not_implemented: dict[str, str],
    skipped_checks: dict[str, str],
    skipped_probe_checks: list[tuple[tuple[str, ...], tuple[str, ...], str]],
    examples: dict[str, dict[str, str]],
    floors: dict[str, float] | None = None,
) -> Coverage:
    """The run's coverage from what it observed and what it left out (and why)."""
    chosen = {op.label for op in selected}
    rows = []
    for op in spec.operations:
        row = OperationCoverage(op.label, op.operation_id, "tested")
        seen = observed.statuses.get(op.label, Counter())
        if op.label not in chosen:
            row.state, row.why = "not selected", "left out by the selection"
        elif op.label in not_implemented:
            row.state, row.why = "not implemented", not_implemented[op.label]
        elif not seen:
            row.state, row.why = "no answer", "no request of the run reached it"
        row.statuses = {s: int(s) in seen for s in op.responses if s.isdigit()}
        sent = observed.parameters.get(op.label, set())
        for param in op.parameters:
            where, name = param.get("in"), str(param.get("name"))
            if where == "header" and name.lower() in ("authorization", "content-type", "accept"):
                continue
            key = f"{where}.{name}"
            row.parameters[key] = (
                bool(seen)
                if where == "path"
                else (where, name if where != "header" else name.lower()) in sent
            )
        row.checks_run = dict(observed.checks.get(op.label, {}))
        for name, why in skipped_checks.items():
            row.checks_skipped.setdefault(name, why)
        for needs, checks, why in skipped_probe_checks:
            if not needs or op.operation_id in needs:
                for name in checks:
                    if name not in row.checks_run:
                        row.checks_skipped.setdefault(name, f"probe skipped: {why}")
        row.examples = dict(examples.get(op.label, {}))
        for name, why_not in observed.examples.get(op.label, {}).items():
            if not why_not or name not in row.examples:
                row.examples[name] = why_not
        rows.append(row)
    return Coverage(rows, dict(floors or {}))
