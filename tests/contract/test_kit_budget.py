"""Fair to any credentials: the budget read from X-RateLimit-*, and a plan that fits it."""

from __future__ import annotations

import random

import pytest

from pin_mock.contract.budget import (
    MAX_PACED_SECONDS,
    BudgetReading,
    agree,
    choose_pace,
    estimate,
    read_budget,
    size_plan,
    usable,
)
from pin_mock.contract.pacing import OverBudget, fit_run, refit

NOW = 1_800_000_000.0
ALL = ("examples", "coverage", "fuzzing", "stateful")


def headers(limit="1000", remaining="900", reset=str(int(NOW) + 3000)):
    return {
        "x-ratelimit-limit": [limit],
        "x-ratelimit-remaining": [remaining],
        "x-ratelimit-reset": [reset],
    }


def test_a_believable_reading():
    reading, why = read_budget(headers(), NOW)
    assert why == "" and reading == BudgetReading(1000, 900, int(NOW) + 3000, NOW)
    assert reading.seconds_to_reset == 3000
    assert "900 of 1000 requests left until the window resets in 3000 s" in reading.describe()


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"remaining": "-47634468"}, "is not a non-negative integer"),
        ({"remaining": "12.5"}, "is not a non-negative integer"),
        ({"limit": "0", "remaining": "0"}, "below 1"),
        ({"remaining": "1001"}, "exceeds X-RateLimit-Limit"),
        ({"reset": str(int(NOW) - 1761266220)}, "in the past"),
        ({"reset": str(int(NOW) + 3600 * 1000)}, "not a window"),
        ({"reset": "soon"}, "is not a non-negative integer"),
    ],
)
def test_absurd_headers_are_no_budget(values, reason):
    reading, why = read_budget(headers(**values), NOW)
    assert reading is None and reason in why


def test_missing_or_repeated_headers_are_no_budget():
    assert read_budget({}, NOW) == (None, "no x-ratelimit-limit header")
    doubled = headers() | {"x-ratelimit-remaining": ["900", "899"]}
    assert read_budget(doubled, NOW)[0] is None


def test_random_headers_never_steer_the_run():
    """Prism's dynamic mode answers random values: no pace, no shrinking, a note."""
    rng = random.Random(7)
    for _ in range(200):
        random_headers = {
            name: [str(rng.randint(-(2**31), 2**31))]
            for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
        }
        reading, why = read_budget(random_headers, NOW)
        fit = fit_run(
            reading, why, client_id="c", operations=18, phases=ALL, max_examples=10, probes=24
        )
        assert fit.pace is None and fit.plan.max_examples == 10 and fit.plan.coverage_mode is None
        assert fit.notes and "not fitted to a budget" in fit.notes[0]
        assert " -" not in fit.notes[0].split(":", 1)[0]


def test_two_readings_must_agree():
    first = BudgetReading(1000, 900, int(NOW) + 3000, NOW)
    assert agree(first, BudgetReading(1000, 899, int(NOW) + 3000, NOW + 1)) == ""
    assert "went up" in agree(first, BudgetReading(1000, 950, int(NOW) + 3000, NOW + 1))
    assert "changed" in agree(first, BudgetReading(5, 4, int(NOW) + 3000, NOW + 1))
    assert "moved back" in agree(first, BudgetReading(1000, 899, int(NOW) + 100, NOW + 1))
    # A new window: Remaining may go up.
    assert agree(first, BudgetReading(1000, 999, int(NOW) + 6600, NOW + 1)) == ""


def test_a_plan_that_fits_is_kept_whole():
    plan = size_plan(100_000, 18, ALL, 10)
    assert (plan.max_examples, plan.coverage_mode, plan.phases) == (10, None, ALL)
    assert plan.estimate == estimate(18, ALL, 10)


def test_a_short_budget_shrinks_the_plan_in_order():
    full = estimate(18, ALL, 10)
    fewer = size_plan(full - 1, 18, ALL, 10)
    assert fewer.phases == ALL and fewer.coverage_mode is None and fewer.max_examples < 10
    standard = size_plan(usable(1000) - 35 * 8, 18, ALL, 10)  # a standard tier client's hour
    assert standard.coverage_mode == "positive" and standard.estimate <= usable(1000) - 35 * 8
    assert "coverage phase positive cases only" in standard.describe()
    tight = size_plan(200, 18, ALL, 10)
    assert "coverage" not in tight.phases and tight.estimate <= 200
    assert size_plan(50, 18, ALL, 10) is None


def test_pacing_only_when_it_is_quick():
    assert choose_pace(10_000, 3600, 2_000) is None  # enough budget
    assert choose_pace(None, None, 2_000) is None  # unknown budget
    assert choose_pace(900, 3600, 2_000) is None  # would take hours: shrink instead
    pace = choose_pace(100, 30, 300)  # a 30 s window: 300 requests in 90 s
    assert pace == pytest.approx(100 / 30) and 300 / pace <= MAX_PACED_SECONDS


def test_a_budget_too_small_for_any_plan_is_one_clear_line():
    reading = BudgetReading(1000, 40, int(NOW) + 3000, NOW)
    with pytest.raises(OverBudget) as caught:
        fit_run(
            reading,
            "",
            client_id="sandbox-standard",
            operations=18,
            phases=ALL,
            max_examples=10,
            probes=24,
        )
    message = str(caught.value)
    assert message.startswith("client sandbox-standard has 40 of 1000 requests left")
    assert "even the smallest run needs about" in message and "\n" not in message


def test_the_fitted_run_says_what_it_dropped():
    reading = BudgetReading(1000, 998, int(NOW) + 3590, NOW)
    fit = fit_run(reading, "", client_id="c", operations=18, phases=ALL, max_examples=10, probes=24)
    assert fit.pace is None and fit.plan.coverage_mode == "positive"
    assert fit.notes == [
        f"budget: {reading.describe()}; the full plan needs about {24 * 8 + estimate(18, ALL, 10)}, "
        f"so Schemathesis runs {fit.plan.describe()}"
    ]


def test_after_the_probes_the_plan_is_fitted_again():
    """The probes' cost is estimated up front; their last answer tells what they really left."""
    shrunk = size_plan(600, 18, ALL, 10)
    grown, note = refit(shrunk, 10, headers(remaining="990"), NOW, 18, "c", ALL)
    assert grown.estimate > shrunk.estimate and grown.estimate <= usable(990)
    assert note.startswith("after the probes, 990 of 1000")
    whole, note = refit(shrunk, 10, headers(remaining="9000", limit="10000"), NOW, 18, "c", ALL)
    assert whole.max_examples == 10 and whole.coverage_mode is None and note == ""
    smaller, note = refit(shrunk, 10, headers(remaining="300"), NOW, 18, "c", ALL)
    assert smaller.estimate <= usable(300) and note.startswith("after the probes, 300 of 1000")
    with pytest.raises(OverBudget):
        refit(shrunk, 10, headers(remaining="10"), NOW, 18, "c", ALL)
    assert refit(shrunk, 10, {}, NOW, 18, "c", ALL) == (shrunk, "")
