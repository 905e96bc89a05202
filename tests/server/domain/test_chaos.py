"""Chaos outcomes are a pure function of (seed, n); delays stay in their bounds."""

from __future__ import annotations

import statistics

import pytest

from pin_mock.server.domain.chaos import FAULTS, ChaosSetting, decide, parse_setting, unit
from pin_mock.server.domain.delays import Delay, parse_delay
from pin_mock.server.errors import InvalidParameter

OPERATIONS = {"listPatients", "getPatient"}


def setting(**fields: object) -> ChaosSetting:
    return parse_setting(
        {"probability": 0.5, "faults": list(FAULTS), **fields},
        operations=OPERATIONS,
        max_delay_ms=10_000,
    )


def test_the_same_seed_gives_the_same_outcomes_and_another_seed_others() -> None:
    one = [decide(setting(seed=7), n) for n in range(1, 201)]
    assert one == [decide(setting(seed=7), n) for n in range(1, 201)]
    assert one != [decide(setting(seed=8), n) for n in range(1, 201)]
    faults = [o.fault for o in one if o.fault]
    # About half of them, every fault chosen at some point: a real draw, not a constant.
    assert 70 <= len(faults) <= 130, len(faults)
    assert set(faults) == set(FAULTS)


@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_probability_zero_never_and_one_always(probability: float) -> None:
    outcomes = [decide(setting(probability=probability, seed=1), n) for n in range(1, 101)]
    assert all((o.fault is not None) == (probability == 1.0) for o in outcomes)


def test_a_stored_setting_reads_back_the_same() -> None:
    original = setting(
        seed=3,
        operations=["getPatient"],
        delay={"distribution": "lognormal", "median_ms": 50, "sigma": 1, "max_ms": 400},
        silence_ms=100,
    )
    assert ChaosSetting.from_dict(original.as_dict()) == original
    assert original.covers("getPatient") and not original.covers("listPatients")


def test_no_seed_draws_one_that_is_shown() -> None:
    seeds = {setting().seed for _ in range(5)}
    assert len(seeds) > 1 and all(0 <= s < 2**53 for s in seeds)


def test_delays_stay_in_their_bounds() -> None:
    us = [unit(5, n, "delay") for n in range(2_000)]
    uniform = Delay("uniform", min_ms=100, max_ms=300)
    assert {uniform.sample(u) for u in us} <= set(range(100, 301))
    assert min(uniform.sample(u) for u in us) < 110 and max(uniform.sample(u) for u in us) > 290
    lognormal = Delay("lognormal", median_ms=200, sigma=0.5, max_ms=1_000)
    drawn = [lognormal.sample(u) for u in us]
    assert max(drawn) <= 1_000 and min(drawn) >= 0
    assert 170 <= statistics.median(drawn) <= 230  # the median it was given
    assert Delay("fixed", ms=250).sample(0.99) == 250
    assert lognormal.sample(0.0) >= 0 and lognormal.sample(0.999999999999) == 1_000


@pytest.mark.parametrize(
    "raw",
    [
        {"distribution": "gamma", "ms": 1},
        {"distribution": "fixed"},
        {"distribution": "fixed", "ms": -1},
        {"distribution": "fixed", "ms": 10_001},
        {"distribution": "fixed", "ms": True},
        {"distribution": "fixed", "ms": 1.5},
        {"distribution": "fixed", "ms": 1, "min_ms": 0},
        {"distribution": "uniform", "min_ms": 5, "max_ms": 4},
        {"distribution": "lognormal", "median_ms": 500, "max_ms": 100},
        {"distribution": "lognormal", "median_ms": 5, "max_ms": 100, "sigma": 0},
        {"distribution": "lognormal", "median_ms": 5, "max_ms": 100, "sigma": 40},
        {"distribution": "lognormal", "median_ms": 5, "max_ms": 100, "sigma": "1"},
    ],
)
def test_a_bad_delay_is_refused(raw: dict) -> None:
    with pytest.raises(InvalidParameter):
        parse_delay(raw, 10_000, "delay")


@pytest.mark.parametrize(
    "body",
    [
        {"probability": 0.5},  # neither faults nor a delay
        {"probability": 0.5, "faults": ["empty_response"], "operations": ["issueToken"]},
        {"probability": 0.5, "faults": ["empty_response"], "operations": ["resetSandbox"]},
        {"probability": 0.5, "faults": ["empty_response"], "operations": ["setChaos"]},
        {"probability": 0.5, "faults": ["empty_response", "empty_response"]},
        {"probability": 0.5, "faults": ["slow_body"], "slow_body_ms": 10_001},
        {"probability": 0.5, "faults": ["headers_then_silence"], "silence_ms": 10_001},
    ],
)
def test_a_setting_that_cannot_be_is_refused(body: dict) -> None:
    with pytest.raises(InvalidParameter):
        parse_setting(body, operations=OPERATIONS, max_delay_ms=10_000)
