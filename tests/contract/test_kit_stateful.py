"""The plugin's stateful phase survives a target whose state moves between scenarios.

``stateful.run_stateful`` is driven here by a small state machine whose one
rule draws an integer or a boolean depending on a counter outside Hypothesis,
as a link step draws differently once the live answer it reads has changed.
Alone, Hypothesis stops such a run with ``FlakyStrategyDefinition`` at its
second scenario (shown first, so the machine is known to be flaky); through
``run_stateful`` the planned scenarios all run, and a check failure met on
the way is raised as found, never replaced by the flakiness.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import hypothesis
import pytest
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from schemathesis.core.failures import Failure, FailureGroup

from pin_mock.contract.stateful import run_stateful

SETTINGS = hypothesis.settings(
    deadline=None, stateful_step_count=3, suppress_health_check=list(hypothesis.HealthCheck)
)


class FakeCase:
    """The case a step validates: fails when the world says so (a check that found something)."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world

    def validate_response(self, response: Any, **kwargs: Any) -> None:
        self.world["excluded"] = kwargs.get("excluded_checks")
        if self.world["scenario"] in self.world["failing"]:
            failure = Failure(operation="GET /v1/webhooks", message="a real finding")
            raise FailureGroup([failure], "a real finding")


def alternating(scenario: int) -> bool:
    return scenario % 2 == 0


def steady(scenario: int) -> bool:
    return False


def machine(
    booleans: Callable[[int], bool], failing: frozenset[int] = frozenset()
) -> type[RuleBasedStateMachine]:
    """A machine whose scenario N draws a boolean where the others draw an integer if ``booleans(N)``."""

    class Machine(RuleBasedStateMachine):
        world: ClassVar[dict[str, Any]] = {"scenario": 0, "failing": failing, "excluded": None}

        def __init__(self) -> None:
            super().__init__()
            self.world["scenario"] += 1

        @classmethod
        def run(cls, *, settings: hypothesis.settings) -> None:
            run_state_machine_as_test(cls, settings=settings)

        @initialize(data=st.data())
        def follow_a_link(self, data: st.DataObject) -> None:
            # What a link step draws depends on what the target answered before. The
            # scenario's first choice: every scenario passes the node the first recorded,
            # so an even one always disagrees with it.
            if booleans(self.world["scenario"]):
                data.draw(st.booleans())
            else:
                data.draw(st.integers(0, 1000))
            self.validate_response(None, FakeCase(self.world))

        @rule()
        def another_step(self) -> None:
            self.validate_response(None, FakeCase(self.world))

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, **kwargs)

    return Machine


def test_alone_hypothesis_calls_the_moving_machine_flaky() -> None:
    with pytest.raises(Flaky):
        machine(alternating).run(settings=hypothesis.settings(SETTINGS, max_examples=20))


def test_every_planned_scenario_runs_though_the_target_moves() -> None:
    flaky = machine(alternating)
    run = run_stateful(flaky, scenarios=6, seed=7, settings=SETTINGS)
    assert run.scenarios >= 6
    assert run.restarts >= 3  # Hypothesis did call it flaky, and fresh runs went on


def test_a_steady_machine_runs_once() -> None:
    run = run_stateful(machine(steady), scenarios=6, seed=7, settings=SETTINGS)
    assert (run.scenarios >= 6, run.restarts) == (True, 0)


def test_a_failure_met_before_hypothesis_calls_it_flaky_is_raised_as_found() -> None:
    # Scenario 2 fails; from scenario 3 on the target has moved: what Hypothesis runs next
    # (more scenarios, or the replay of the failing one) draws differently.
    def moved(scenario: int) -> bool:
        return scenario >= 3

    with pytest.raises(FailureGroup, match="a real finding"):
        run_stateful(machine(moved, failing=frozenset({2})), scenarios=6, settings=SETTINGS)


def test_a_steady_failure_is_raised() -> None:
    with pytest.raises(FailureGroup, match="a real finding"):
        run_stateful(machine(steady, frozenset(range(3, 1000))), scenarios=6, settings=SETTINGS)


def test_restarts_are_bounded() -> None:
    run = run_stateful(machine(alternating), scenarios=1000, settings=SETTINGS, max_restarts=2)
    assert run.restarts == 2 and run.scenarios < 1000


def test_excluded_checks_reach_each_step() -> None:
    unmoved = machine(steady)
    marker = [object()]
    run_stateful(unmoved, scenarios=2, settings=SETTINGS, excluded_checks=marker)
    assert unmoved.world["excluded"] is marker
