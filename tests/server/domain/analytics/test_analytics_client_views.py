"""A client's analytics: the cached seeded sums with its own patients swapped in."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from analytics_helpers import OUTCOMES, POPULATION, entries_of

from harness import Sandbox


def test_creating_a_patient_and_entries_moves_the_analytics(sandbox: Sandbox) -> None:
    before = sandbox.get(POPULATION).json()
    outcomes_before = sandbox.get(OUTCOMES).json()
    pid = sandbox.post(
        "/v1/patients", json={"name": "New One", "date_of_birth": "2015-06-01", "gender": "other"}
    ).json()["id"]
    after = sandbox.get(POPULATION).json()
    assert after["total_patients"] == before["total_patients"] + 1
    assert after["by_gender"]["other"] == before["by_gender"]["other"] + 1
    assert after["by_age_band"][0]["patients"] == before["by_age_band"][0]["patients"] + 1
    url = f"/v1/patients/{pid}/clinical-data"
    sandbox.post(
        url,
        json={
            "data_type": "pain_scores",
            "recorded_at": "2024-05-01T09:00:00Z",
            "value": {"score": 9},
        },
    )
    sandbox.post(
        url,
        json={
            "data_type": "medications",
            "recorded_at": "2024-05-01T09:10:00Z",
            "value": {
                "name": "Tramadol Hydrochloride 50 MG Oral Tablet",
                "rxnorm_code": "835603",
                "dose": "50 mg",
                "frequency": "daily",
            },
        },
    )
    scored = round(before["mean_latest_pain_score"] * 150)  # every seeded patient has a score
    final = sandbox.get(POPULATION).json()
    assert final["mean_latest_pain_score"] == pytest.approx((scored + 9) / 151, abs=0.01)
    assert final["severe_pain_share"] > before["severe_pain_share"]
    outcomes = sandbox.get(OUTCOMES).json()
    assert outcomes["patients"] == outcomes_before["patients"] + 1
    may = {p["period_start"]: p["count"] for p in outcomes["trend"]}
    may_before = {p["period_start"]: p["count"] for p in outcomes_before["trend"]}
    assert may["2024-05-01"] == may_before["2024-05-01"] + 1

    def tramadol(body: dict[str, Any]) -> int:
        return next((m["patients"] for m in body["medications"] if m["rxnorm_code"] == "835603"), 0)

    assert tramadol(outcomes) == tramadol(outcomes_before) + 1


def test_a_new_score_for_a_seeded_patient_replaces_its_latest(sandbox: Sandbox) -> None:
    before = sandbox.get(POPULATION).json()
    pain = [e for e in entries_of(sandbox, "patient_3") if e["data_type"] == "pain_scores"]
    sandbox.post(
        "/v1/patients/patient_3/clinical-data",
        json={
            "data_type": "pain_scores",
            "recorded_at": "2025-01-15T09:00:00Z",
            "value": {"score": 10},
        },
    )
    after = sandbox.get(POPULATION).json()
    delta = (10 - pain[-1]["value"]["score"]) / 150
    assert after["mean_latest_pain_score"] == pytest.approx(
        before["mean_latest_pain_score"] + delta, abs=0.01
    )
    assert after["total_patients"] == 150


def test_warm_caches_do_not_change_answers(sandbox_factory) -> None:
    cold = sandbox_factory()
    first = cold.get(OUTCOMES, params={"start_date": "2024-01-01"}).content
    assert cold.get(OUTCOMES, params={"start_date": "2024-01-01"}).content == first
    assert cold.get(POPULATION).content == cold.get(POPULATION).content


@pytest.mark.parametrize("sandbox_factory", ["redis"], indirect=True)
def test_views_cached_before_redis_was_wiped_are_not_served_after(sandbox_factory) -> None:
    """A Redis restarted empty (or flushed) starts its version counter again; a worker's
    views cached on the earlier Redis's versions must not match the new ones."""
    sandbox = sandbox_factory()
    seeded = sandbox.get(POPULATION).json()["by_gender"]
    female = {"name": "Before Wipe", "date_of_birth": "1980-01-01", "gender": "female"}
    sandbox.post("/v1/patients", json=female)
    before = sandbox.get(POPULATION).json()["by_gender"]  # cached on this version
    assert before["female"] == seeded["female"] + 1
    with redis.Redis.from_url(sandbox.services.settings.state) as wiped:
        wiped.flushdb()
    other = {"name": "After Wipe", "date_of_birth": "1980-01-01", "gender": "other"}
    sandbox.post("/v1/patients", json=other)  # as many writes as before the wipe
    after = sandbox.get(POPULATION).json()["by_gender"]
    assert after == {**seeded, "other": seeded["other"] + 1}
