"""The stateful phase under pytest: Schemathesis's state machine, its planned scenarios run to the end.

Why ``schema.as_state_machine().run()`` alone is not enough against a live
target: a step that follows a link draws its case from the answer the step
before it got. Whether the link's value is there (an inferred link reads
``data/0/id`` of a list that may be empty one time and not the next; a value is
used or left out by Schemathesis's own coin, drawn outside Hypothesis's record)
decides which parameters are given and so what is drawn next. Hypothesis keeps
a tree of every scenario of one run, to avoid repeats; when a later scenario
starts like an earlier one and then draws differently, because the target's
state moved between them, it stops the whole test with
``FlakyStrategyDefinition`` ("Is your data generation depending on external
state?"). With no failure at all (measured: 5 of 10 plugin runs against one
sandbox), or in place of a real failure whose final replay drew differently.

Schemathesis's own engine (the CLI) ends such a suite, keeps the failures it
saw as they happened, and starts a new suite when there is more to find. Here
the same: every check failure is kept when it happens, a run Hypothesis calls
flaky is followed by a fresh one (a new tree, a new seed) for the scenarios
still due, and a kept failure is raised as it was found, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis.errors import Flaky
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful.state_machine import release_state_machines

#: Fresh Hypothesis runs after a flaky one, at most (each for the scenarios still due).
MAX_RESTARTS = 10


@dataclass
class StatefulRun:
    """What the stateful phase did: scenarios that sent a request, restarts, failures seen."""

    planned: int
    scenarios: int = 0
    restarts: int = 0
    failures: list[FailureGroup] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(self.planned - self.scenarios, 0)


def run_stateful(
    machine: type[Any],
    *,
    scenarios: int,
    seed: int | None = None,
    excluded_checks: list[Any] | None = None,
    settings: hypothesis.settings | None = None,
    max_restarts: int = MAX_RESTARTS,
) -> StatefulRun:
    """Run ``machine`` (``schema.as_state_machine()``) for ``scenarios`` scenarios.

    Raises the first check failure a step met (a ``FailureGroup``), whether
    Hypothesis reported it or called the run flaky while replaying it. Any
    other error goes up as it is.
    """
    run = StatefulRun(planned=scenarios)
    base = settings or hypothesis.settings()

    class Kept(machine):  # type: ignore[misc, valid-type]
        """The machine, noting each finished scenario and each failure as it happens."""

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:  # fmt: skip
            self._pin_calls = getattr(self, "_pin_calls", 0) + 1
            try:
                case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=excluded_checks or None,
                    transport_kwargs=kwargs or None,
                    recorder=getattr(self, "recorder", None),
                )
            except FailureGroup as group:
                run.failures.append(group)
                raise

        def teardown(self) -> None:
            # A scenario counts once it sent a request. Hypothesis's own count (valid
            # scenarios only) is not visible from here, and is at most this one.
            if getattr(self, "_pin_calls", 0):
                run.scenarios += 1
            super().teardown()

    try:
        _run(Kept, run, base, seed, max_restarts)
    finally:
        release_state_machines(Kept)  # Hypothesis keeps per-class state otherwise
    return run


def _run(
    machine: type[Any],
    run: StatefulRun,
    base: hypothesis.settings,
    seed: int | None,
    max_restarts: int,
) -> None:
    while run.remaining:
        # As Schemathesis's engine runs it: only generation (shrinking replays scenarios
        # against a target that has moved on), no deadline (a live target's time is not
        # the test's), no health checks (a link that finds nothing to follow filters).
        now = hypothesis.settings(base, max_examples=run.remaining, phases=[hypothesis.Phase.generate],
                                  database=None, deadline=None,
                                  suppress_health_check=list(hypothesis.HealthCheck))  # fmt: skip
        machine._hypothesis_internal_use_seed = None if seed is None else seed + run.restarts
        try:
            machine.run(settings=now)
        except FailureGroup:
            raise
        except BaseException as exc:
            if not _flaky(exc):
                raise
            if run.failures:  # the flakiness stands in front of a real finding: the finding
                raise run.failures[0] from None
            if run.restarts >= max_restarts:
                break
            run.restarts += 1
            continue
        if run.failures:  # a failure Hypothesis did not report (a later replay passed): still one
            raise run.failures[0]
        break


def _flaky(exc: BaseException) -> bool:
    """Hypothesis's flakiness, alone or grouped with the failures it found (report_multiple_bugs)."""
    if isinstance(exc, Flaky):
        return True
    if isinstance(exc, BaseExceptionGroup) and not isinstance(exc, FailureGroup):
        return any(_flaky(e) for e in exc.exceptions) and all(
            _flaky(e) or isinstance(e, (FailureGroup, AssertionError)) for e in exc.exceptions
        )
    return False
