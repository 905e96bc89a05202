"""The client's request budget, read from ``X-RateLimit-*``, and a plan that fits it.

A least-privilege or low-tier client must still get a useful run in minutes:
when the default plan needs more requests than the client has left in its
window, the plan shrinks (fewer examples per operation, then the coverage
phase's negative cases, then the coverage phase) until it fits; when even the
smallest plan cannot fit, the run stops with a one-line reason. The kit paces
itself only when a short window makes that cheap (the whole run paced stays
under ``MAX_PACED_SECONDS``): never an hour at a fraction of a request per
second.

The headers steer nothing unless they are believable: plain integers,
``Remaining <= Limit``, a ``Reset`` in epoch seconds within ``MAX_WINDOW`` from
now, and two readings that agree (same limit and window, ``Remaining`` not
going up). A target answering random values (Prism's dynamic mode) is neither
paced nor shrunk; the checks report its headers as findings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

#: A reset further ahead than this is not a believable window for steering a run.
MAX_WINDOW = 7 * 24 * 3600
#: Pacing is chosen only when the whole plan, paced, takes at most this long.
MAX_PACED_SECONDS = 240.0
#: Requests kept in reserve: tokens, retries, the budget readings themselves.
RESERVE = 20
#: Budget share kept in reserve (the estimates are estimates).
RESERVE_SHARE = 0.1
#: Requests a probe may send, for sizing before the probes run (measured: about 6;
#: the plan is fitted again to what the probes really left).
PROBE_ESTIMATE = 8

# Requests per operation, measured against the sandbox (Schemathesis 4.32, 18
# operations) and rounded up: the coverage phase does not scale with
# --max-examples (about 64 per operation, 16 of them positive).
_PER_OPERATION = {"examples": 8.0, "coverage": 75.0, "coverage-positive": 22.0}
_PER_EXAMPLE = {"fuzzing": 1.2, "stateful": 0.7}
_INT = re.compile(r"^\s*\d+\s*$")
_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@dataclass(frozen=True)
class BudgetReading:
    """One answer's ``X-RateLimit-*`` values, at the time it was read."""

    limit: int
    remaining: int
    reset: int
    at: float

    @property
    def seconds_to_reset(self) -> float:
        """Seconds until the window resets (never negative)."""
        return max(0.0, self.reset - self.at)

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.reset, UTC).strftime("%H:%M:%S UTC")
        return (
            f"{self.remaining} of {self.limit} requests left until the window resets "
            f"in {self.seconds_to_reset:.0f} s ({when})"
        )


def read_budget(
    headers: Mapping[str, str | list[str]], now: float
) -> tuple[BudgetReading | None, str]:
    """A believable reading of the headers, or ``(None, why not)``."""
    values: list[int] = []
    for name in _HEADERS:
        raw = headers.get(name)
        if isinstance(raw, list):
            raw = raw[0] if len(raw) == 1 else None if not raw else "several values"
        if raw is None:
            return None, f"no {name} header"
        if not _INT.match(raw):
            return None, f"{name} {raw.strip()[:40]!r} is not a non-negative integer"
        values.append(int(raw))
    limit, remaining, reset = values
    if limit < 1:
        return None, f"X-RateLimit-Limit {limit} is below 1"
    if remaining > limit:
        return None, f"X-RateLimit-Remaining {remaining} exceeds X-RateLimit-Limit {limit}"
    if reset < int(now) - 1:
        return None, f"X-RateLimit-Reset {reset} is in the past"
    if reset > now + MAX_WINDOW:
        return None, f"X-RateLimit-Reset {reset} is {reset - now:.0f} s ahead: not a window"
    return BudgetReading(limit, remaining, reset, now), ""


def agree(first: BudgetReading, second: BudgetReading) -> str:
    """Why two consecutive readings of one client contradict each other ('' when they agree)."""
    if first.limit != second.limit:
        return f"X-RateLimit-Limit changed from {first.limit} to {second.limit}"
    if abs(first.reset - second.reset) > 2 and second.reset < first.reset:
        return f"X-RateLimit-Reset moved back from {first.reset} to {second.reset}"
    if second.reset - first.reset <= 2 and second.remaining > first.remaining:
        return (
            f"X-RateLimit-Remaining went up from {first.remaining} to {second.remaining} "
            "in one window"
        )
    return ""


@dataclass(frozen=True)
class Plan:
    """What Schemathesis runs: phases, examples per operation, coverage's modes."""

    phases: tuple[str, ...]
    max_examples: int
    #: ``None``: the coverage phase's positive and negative cases; ``"positive"``: only those.
    coverage_mode: str | None
    estimate: int

    def describe(self) -> str:
        parts = [
            f"{self.max_examples} example{'s' if self.max_examples != 1 else ''} per operation"
        ]
        if "coverage" not in self.phases:
            parts.append("no coverage phase")
        elif self.coverage_mode:
            parts.append(f"coverage phase {self.coverage_mode} cases only")
        return f"{', '.join(parts)} (about {self.estimate} requests)"


def estimate(
    operations: int, phases: tuple[str, ...], max_examples: int, coverage_mode: str | None = None
) -> int:
    """Requests Schemathesis sends for this plan (rounded up from measured runs)."""
    per_operation = 0.0
    for phase in phases:
        if phase == "coverage":
            per_operation += _PER_OPERATION["coverage-positive" if coverage_mode else "coverage"]
        elif phase in _PER_OPERATION:
            per_operation += _PER_OPERATION[phase]
        else:
            per_operation += _PER_EXAMPLE.get(phase, 1.0) * max_examples
    return int(per_operation * operations + 0.999)


def usable(remaining: int) -> int:
    """The part of a budget a plan may spend (the rest is reserve)."""
    return max(0, int(remaining * (1 - RESERVE_SHARE)) - RESERVE)


def size_plan(
    budget: int | None, operations: int, phases: tuple[str, ...], max_examples: int
) -> Plan | None:
    """The largest plan within ``budget`` requests (``None`` budget: the full plan).

    Shrinks in this order: examples per operation, the coverage phase's
    negative cases, the coverage phase. ``None`` when even the smallest does not fit.
    """
    full = Plan(phases, max_examples, None, estimate(operations, phases, max_examples))
    if budget is None or full.estimate <= budget:
        return full
    modes: list[tuple[tuple[str, ...], str | None]] = [(phases, None)]
    if "coverage" in phases:
        modes.append((phases, "positive"))
        without = tuple(p for p in phases if p != "coverage")
        if without:
            modes.append((without, None))
    for chosen, mode in modes:
        for examples in range(max_examples, 0, -1):
            cost = estimate(operations, chosen, examples, mode)
            if cost <= budget:
                return Plan(chosen, examples, mode, cost)
    return None


def choose_pace(remaining: int | None, seconds_to_reset: float | None, needed: int) -> float | None:
    """Requests per second that keep ``needed`` requests within the window, if that is quick.

    ``None``: no pacing, because the budget suffices, is unknown, or pacing
    would take longer than ``MAX_PACED_SECONDS`` (the plan shrinks instead).
    """
    if remaining is None or seconds_to_reset is None or needed <= remaining:
        return None
    pace = max(remaining, 1) / max(seconds_to_reset, 1.0)
    if needed / pace > MAX_PACED_SECONDS:
        return None
    return pace
