"""Fit a run to the client's budget: read it from the target, then pace, shrink or refuse.

``budget.py`` holds the pure rules (what a believable reading is, what a plan
costs, which plan fits); this module asks the target and turns the rules into
a decision: a pace (only when that is quick), a Schemathesis plan, the notes
that explain it, or ``OverBudget`` with a one-line reason (exit 2).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from pin_mock.contract.budget import (
    PROBE_ESTIMATE,
    BudgetReading,
    Plan,
    agree,
    choose_pace,
    estimate,
    read_budget,
    size_plan,
    usable,
)


class OverBudget(Exception):
    """Even the smallest run does not fit the client's remaining budget."""


@dataclass
class Fit:
    """The decision: pace (requests/s) and Schemathesis's ``N/m``, the plan, the notes."""

    pace: float | None = None
    rate: str | None = None
    plan: Plan | None = None
    notes: list[str] = field(default_factory=list)
    reading: BudgetReading | None = None


def read_target_budget(
    url: str, token: str, timeout: float, now: float | None = None
) -> tuple[BudgetReading | None, str]:
    """Two answers of ``url`` (a listing) read for the budget: believable and consistent, or why not."""
    readings = []
    for _ in range(2):
        try:
            answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        except httpx.HTTPError as exc:
            return None, f"the budget reading failed ({exc.__class__.__name__})"
        headers = {k.lower(): answer.headers.get_list(k) for k in answer.headers}
        reading, why = read_budget(headers, time.time() if now is None else now)
        if reading is None:
            return None, why
        readings.append(reading)
    why = agree(*readings)
    return (None, why) if why else (readings[-1], "")


def fit_run(
    reading: BudgetReading | None,
    why: str,
    *,
    client_id: str,
    operations: int,
    phases: tuple[str, ...],
    max_examples: int,
    probes: int,
) -> Fit:
    """Pace, plan and notes for a run of ``probes`` probes and Schemathesis ``phases``."""
    full = Plan(phases, max_examples, None, estimate(operations, phases, max_examples))
    fit = Fit(plan=full if phases else None, reading=reading)
    if reading is None:
        if why:
            fit.notes.append(
                f"the run is not fitted to a budget: {why} (see pin_rate_limit_headers)"
            )
        return fit
    probe_cost = probes * PROBE_ESTIMATE
    needed = probe_cost + (full.estimate if phases else 0)
    fit.pace = choose_pace(reading.remaining, reading.seconds_to_reset, needed)
    if fit.pace is not None:
        fit.rate = f"{max(1, int(fit.pace * 60))}/m"
        fit.notes.append(
            f"about {needed} requests needed, {reading.describe()}: "
            f"pacing at {fit.pace:.2f} requests/s"
        )
        return fit
    budget = usable(reading.remaining)
    if needed <= budget:
        return fit
    fitted = size_plan(budget - probe_cost, operations, phases, max_examples) if phases else None
    if fitted is None:
        smallest = probe_cost + estimate(operations, tuple(p for p in phases if p != "coverage"), 1)
        raise OverBudget(
            f"client {client_id} has {reading.describe()}; even the smallest run needs about "
            f"{smallest}: wait for the reset, use a client with a higher tier, or narrow the "
            "run with --include or --phases"
        )
    fit.plan = fitted
    fit.notes.append(
        f"budget: {reading.describe()}; the full plan needs about {needed}, "
        f"so Schemathesis runs {fitted.describe()}"
    )
    return fit


def refit(
    previous: Plan, max_examples: int, headers: Mapping[str, list[str]], at: float,
    operations: int, client_id: str, phases: tuple[str, ...] | None = None,
) -> tuple[Plan, str]:  # fmt: skip
    """After the probes: the plan fitted to what they really left (and a note when it changed).

    The probes' cost is only estimated before they run; their last answer tells
    the real remaining budget, so the plan may grow back (up to ``max_examples``)
    or shrink further. An unreadable answer keeps ``previous``.
    """
    reading, _ = read_budget(headers, at)
    if reading is None:
        return previous, ""
    phases = phases or previous.phases
    fitted = size_plan(usable(reading.remaining), operations, phases, max_examples)
    if fitted is None:
        raise OverBudget(
            f"client {client_id} has {reading.describe()} after the probes: too few for the "
            "Schemathesis phases; wait for the reset or use a client with a higher tier"
        )
    full = estimate(operations, phases, max_examples)
    if fitted == previous or fitted.estimate == full:
        return fitted, ""
    return fitted, f"after the probes, {reading.describe()}: Schemathesis runs {fitted.describe()}"
