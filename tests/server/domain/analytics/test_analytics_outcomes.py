"""Outcomes: computed from the same data the clinical-data endpoints return."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from analytics_helpers import OUTCOMES, entries_of, expected_outcomes, facts_of_store

from harness import Sandbox


@pytest.mark.parametrize(
    ("start", "end"), [(None, None), ("2024-03-01", "2024-10-31"), ("2023-06-15", None)]
)
def test_outcomes_for_everyone_match_a_recount(
    sandbox: Sandbox, start: str | None, end: str | None
) -> None:
    params = {k: v for k, v in (("start_date", start), ("end_date", end)) if v}
    body = sandbox.get(OUTCOMES, params=params).json()
    scores, meds = facts_of_store(sandbox)
    expected = expected_outcomes(scores, start, end, meds)
    assert body["patients"] == expected["patients"] > 100
    assert body["baseline_mean_pain_score"] == expected["baseline"]
    assert body["latest_mean_pain_score"] == expected["latest"]
    assert body["change_from_baseline"] == pytest.approx(
        expected["latest"] - expected["baseline"], abs=0.011
    )
    assert body["improvement"]["patients_evaluated"] == expected["evaluated"]
    assert body["improvement"]["patients_improved"] == expected["improved"]
    assert body["improvement"]["threshold_percent"] == 30
    trend = {
        p["period_start"]: (p["mean_pain_score"], p["count"]) for p in body["trend"] if p["count"]
    }
    assert trend == expected["months"]
    assert {m["rxnorm_code"]: m["patients"] for m in body["medications"]} == expected["medications"]
    counts = [m["patients"] for m in body["medications"]]
    assert counts == sorted(counts, reverse=True)


def test_outcomes_for_one_patient_follow_its_pain_scores(sandbox: Sandbox) -> None:
    pain = [e for e in entries_of(sandbox, "patient_12") if e["data_type"] == "pain_scores"]
    start, end = pain[1]["recorded_at"][:10], pain[-2]["recorded_at"][:10]
    body = sandbox.get(
        OUTCOMES, params={"patient_id": "patient_12", "start_date": start, "end_date": end}
    ).json()
    inside = [e["value"]["score"] for e in pain[1:-1]]
    assert body["patient_id"] == "patient_12" and body["patients"] == 1
    assert (body["start_date"], body["end_date"]) == (start, end)
    assert body["baseline_mean_pain_score"] == inside[0]
    assert body["latest_mean_pain_score"] == inside[-1]
    assert sum(p["count"] for p in body["trend"]) == len(inside)


def test_outcomes_without_dates_span_the_data(sandbox: Sandbox) -> None:
    body = sandbox.get(OUTCOMES).json()
    scores, _ = facts_of_store(sandbox)
    days = sorted(d for s in scores.values() for d, _ in s)
    assert (body["start_date"], body["end_date"]) == (days[0], days[-1])
    assert body["interval"] == "month" and body["patient_id"] is None


def test_trend_periods_are_contiguous_weeks_or_months_with_gaps_listed(sandbox: Sandbox) -> None:
    patient = sandbox.post("/v1/patients", json={"name": "Gap Test", "date_of_birth": "1970-01-01"})
    pid = patient.json()["id"]
    for stamp, score in (("2024-01-10", 8), ("2024-01-20", 6), ("2024-03-05", 4)):
        sandbox.post(
            f"/v1/patients/{pid}/clinical-data",
            json={
                "data_type": "pain_scores",
                "recorded_at": f"{stamp}T09:00:00Z",
                "value": {"score": score},
            },
        )
    monthly = sandbox.get(OUTCOMES, params={"patient_id": pid}).json()["trend"]
    assert monthly == [
        {"period_start": "2024-01-01", "mean_pain_score": 7.0, "count": 2},
        {"period_start": "2024-02-01", "mean_pain_score": None, "count": 0},
        {"period_start": "2024-03-01", "mean_pain_score": 4.0, "count": 1},
    ]
    weekly = sandbox.get(OUTCOMES, params={"patient_id": pid, "interval": "week"}).json()["trend"]
    starts = [date.fromisoformat(p["period_start"]) for p in weekly]
    assert all(d.weekday() == 0 for d in starts)
    assert all(b - a == timedelta(days=7) for a, b in zip(starts, starts[1:], strict=False))
    assert (starts[0], starts[-1]) == (date(2024, 1, 8), date(2024, 3, 4))
    assert sum(p["count"] for p in weekly) == 3


@pytest.mark.parametrize(("latest", "improved"), [(7, 1), (8, 0), (0, 1), (10, 0)])
def test_improvement_means_at_least_30_percent_below_baseline(
    sandbox: Sandbox, latest: int, improved: int
) -> None:
    pid = sandbox.post("/v1/patients", json={"name": "T", "date_of_birth": "1980-01-01"}).json()[
        "id"
    ]
    for day, score in (("2024-02-01", 10), ("2024-03-01", latest)):
        sandbox.post(
            f"/v1/patients/{pid}/clinical-data",
            json={
                "data_type": "pain_scores",
                "recorded_at": f"{day}T09:00:00Z",
                "value": {"score": score},
            },
        )
    body = sandbox.get(OUTCOMES, params={"patient_id": pid}).json()
    assert body["improvement"] == {
        "threshold_percent": 30,
        "patients_evaluated": 1,
        "patients_improved": improved,
        "share": float(improved),
    }
    assert body["change_from_baseline"] == latest - 10


def test_a_patient_without_scores_has_empty_outcomes(sandbox: Sandbox) -> None:
    pid = sandbox.post("/v1/patients", json={"name": "N", "date_of_birth": "1980-01-01"}).json()[
        "id"
    ]
    body = sandbox.get(OUTCOMES, params={"patient_id": pid}).json()
    assert body["patients"] == 0 and body["trend"] == [] and body["start_date"] is None
    assert body["baseline_mean_pain_score"] is None and body["improvement"]["share"] is None


def test_outcomes_errors(sandbox: Sandbox) -> None:
    missing = sandbox.get(OUTCOMES, params={"patient_id": "patient_999999"})
    assert missing.status_code == 404
    assert missing.json()["error"]["details"] == {
        "parameter": "patient_id",
        "value": "patient_999999",
    }
    for params, parameter in (
        ({"start_date": "2024-05-02", "end_date": "2024-05-01"}, "start_date"),
        ({"start_date": "2024-02-30"}, "start_date"),
        ({"interval": "day"}, "interval"),
    ):
        response = sandbox.get(OUTCOMES, params=params)
        assert response.status_code == 400
        assert response.json()["error"]["details"]["parameter"] == parameter
