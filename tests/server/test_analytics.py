"""Analytics are computed from the same data the clinical-data endpoints return."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from harness import Sandbox

from pin_mock.server import analytics

OUTCOMES = "/v1/analytics/outcomes"
POPULATION = "/v1/analytics/population-health"


def entries_of(sandbox: Sandbox, patient_id: str, client: str = "sandbox-enterprise") -> list:
    """Every entry of a patient as the API lists it."""
    out, page = [], 1
    while True:
        body = sandbox.get(
            f"/v1/patients/{patient_id}/clinical-data",
            params={"limit": 100, "page": page},
            as_client=client,
        ).json()
        out += body["data"]
        if len(out) >= body["pagination"]["total"]:
            return out
        page += 1


def expected_outcomes(
    per_patient: dict[str, list], start: str | None, end: str | None, meds_of: dict[str, list]
) -> dict[str, Any]:
    """A plain re-implementation of the outcome definitions, for comparison."""
    firsts, lasts, evaluated, improved, months = [], [], 0, 0, {}
    for scores in per_patient.values():
        scores = [(d, s) for d, s in scores if (not start or d >= start) and (not end or d <= end)]
        if not scores:
            continue
        firsts.append(scores[0][1])
        lasts.append(scores[-1][1])
        if scores[0][1] > 0 and len(scores) >= 2:
            evaluated += 1
            improved += (scores[0][1] - scores[-1][1]) / scores[0][1] >= 0.3
        for d, s in scores:
            months.setdefault(d[:7] + "-01", []).append(s)
    medications = Counter()
    for meds in meds_of.values():
        active = {
            m["rxnorm_code"]
            for m in meds
            if (not end or (m.get("start_date") or "0") <= end)
            and (not start or not m.get("end_date") or m["end_date"] >= start)
        }
        medications.update(active)
    return {
        "patients": len(firsts),
        "baseline": round(sum(firsts) / len(firsts), 2) if firsts else None,
        "latest": round(sum(lasts) / len(lasts), 2) if lasts else None,
        "evaluated": evaluated,
        "improved": improved,
        "months": {m: (round(sum(v) / len(v), 2), len(v)) for m, v in months.items()},
        "medications": dict(medications),
    }


def facts_of_store(sandbox: Sandbox, client: str = "sandbox-enterprise") -> tuple[dict, dict]:
    store = sandbox.services.store
    scores, meds = {}, {}
    for patient in store.iter_patients(client):
        entries = store.entries(client, patient["id"])
        scores[patient["id"]] = [
            (e["recorded_at"][:10], e["value"]["score"])
            for e in entries
            if e["data_type"] == "pain_scores"
        ]
        meds[patient["id"]] = [e["value"] for e in entries if e["data_type"] == "medications"]
    return scores, meds


def test_seeded_histories_give_the_same_facts_as_their_entries(sandbox: Sandbox) -> None:
    store = sandbox.services.store
    for pid, history in store.seed.histories.items():
        facts = analytics.facts_from_entries(store.seed.entries[pid])
        assert list(facts.days) == list(history.days)
        assert list(facts.scores) == list(history.scores)
        assert sorted(facts.diagnoses) == sorted(history.diagnoses)
        assert sorted(facts.medications) == sorted(history.medications)


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


def test_population_total_and_groups_agree_with_the_patient_list(sandbox: Sandbox) -> None:
    body = sandbox.get(POPULATION).json()
    total = sandbox.get("/v1/patients?limit=1").json()["pagination"]["total"]
    assert body["total_patients"] == total == 150
    assert sum(body["by_gender"].values()) == total
    assert sum(b["patients"] for b in body["by_age_band"]) == total
    assert [b["band"] for b in body["by_age_band"]] == list(analytics.AGE_BANDS)


def test_population_numbers_match_a_recount(sandbox: Sandbox) -> None:
    body = sandbox.get(POPULATION).json()
    store = sandbox.services.store
    genders, diagnoses, medications, latest = Counter(), Counter(), Counter(), []
    for patient in store.iter_patients("sandbox-enterprise"):
        entries = store.entries("sandbox-enterprise", patient["id"])
        genders[patient["gender"]] += 1
        status = {}
        for e in entries:
            if e["data_type"] == "diagnoses":
                status[e["value"]["icd10_code"]] = e["value"]["status"]
        diagnoses.update(code for code, s in status.items() if s == "active")
        medications.update(
            {e["value"]["rxnorm_code"] for e in entries if e["data_type"] == "medications"}
        )
        pain = [e["value"]["score"] for e in entries if e["data_type"] == "pain_scores"]
        if pain:
            latest.append(pain[-1])
    assert body["by_gender"] == {g: genders[g] for g in ("male", "female", "other", "unknown")}
    top = [(d["icd10_code"], d["patients"]) for d in body["top_diagnoses"]]
    assert [n for _, n in top] == sorted(diagnoses.values(), reverse=True)[: len(top)]
    assert all(diagnoses[code] == n for code, n in top)
    assert all(d["prevalence"] == round(d["patients"] / 150, 4) for d in body["top_diagnoses"])
    assert body["mean_latest_pain_score"] == round(sum(latest) / len(latest), 2)
    assert body["severe_pain_share"] == round(sum(s >= 7 for s in latest) / len(latest), 4)
    assert {m["rxnorm_code"]: m["patients"] for m in body["top_medications"]} == {
        code: medications[code] for code in (m["rxnorm_code"] for m in body["top_medications"])
    }
    assert len(body["top_medications"]) == min(10, len(medications))


def test_insights_are_derived_from_the_numbers(sandbox: Sandbox) -> None:
    body = sandbox.get(POPULATION).json()
    text = " ".join(body["insights"])
    top = body["top_diagnoses"][0]
    assert f"{top['icd10_code']}): {top['patients']} of 150 patients" in text
    assert f"{body['mean_latest_pain_score']:.1f} on the 0-10 scale" in text
    assert f"{100 * body['severe_pain_share']:.1f}% report severe pain" in text
    assert body["top_medications"][0]["name"] in text


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
