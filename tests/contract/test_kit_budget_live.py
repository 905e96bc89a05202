"""Fair to any credentials, live: a real tier's budget is fitted, absurd headers steer nothing."""

from __future__ import annotations

import random

from kit_mutants import Mutant, Proxy, Request, Response
from kit_servers import TEST_TIER_LIMITS, sandbox_app, serve
from pin_mock.contract.output.summary import render

STANDARD = {"client_id": "sandbox-standard", "client_secret": "sandbox-standard-secret"}


def test_a_standard_tier_client_gets_a_fitted_default_run_that_passes(run_kit):
    """1,000 requests an hour: the plan shrinks to fit, nothing is paced, nothing is refused."""
    with serve(sandbox_app(tier_limits={**TEST_TIER_LIMITS, "standard": 1000})) as url:
        result = run_kit(url, max_examples=10, **STANDARD)
    assert result.exit_code == 0, render(result)
    assert any(n.startswith("budget: 998 of 1000 requests left") for n in result.notes), (
        result.notes
    )
    assert not any("pacing at" in n for n in result.notes)
    assert result.schemathesis.statuses.get(429, 0) == 0
    assert result.schemathesis.operations_tested == 18


def test_a_budget_too_small_for_any_run_exits_2_with_one_line(run_kit):
    with serve(sandbox_app(tier_limits={**TEST_TIER_LIMITS, "standard": 100})) as url:
        result = run_kit(url, **STANDARD)
    assert result.exit_code == 2 and "\n" not in result.reason
    assert result.reason.startswith("client sandbox-standard has 98 of 100 requests left")
    assert "even the smallest run needs about" in result.reason


def random_rate_limits() -> Mutant:
    """Like Prism's dynamic mode: every answer carries random X-RateLimit-* values."""
    rng = random.Random(11)

    async def scramble(proxy: Proxy, request: Request, response: Response) -> None:
        for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
            response.set_header(name.lower(), str(rng.randint(-(2**31), 2**31)))

    return Mutant(
        "random-rate-limits", "random X-RateLimit-*", frozenset(), {}, on_response=scramble
    )


def test_random_rate_limit_headers_are_findings_and_never_steer_the_pace(sandbox_url, run_kit):
    with serve(Proxy(sandbox_url, random_rate_limits())) as url:
        result = run_kit(
            url, include=("listPatients", "getPatient"), phases=("examples", "fuzzing", "probes")
        )
    assert result.exit_code == 1
    assert "pin_rate_limit_headers" in {f.check for f in result.findings}
    assert any("not fitted to a budget" in n for n in result.notes), result.notes
    assert not any("pacing at" in n or n.startswith("budget:") for n in result.notes)
    # One root cause, however many answers showed it.
    text = render(result)
    assert ". pin_rate_limit_headers: " in text
