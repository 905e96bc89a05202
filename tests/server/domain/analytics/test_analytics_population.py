"""Population health and its insights: computed from the patients and their entries."""

from __future__ import annotations

from collections import Counter

from analytics_helpers import POPULATION, visible

from harness import Sandbox
from pin_mock.server.domain.analytics.population import AGE_BANDS


def test_population_total_and_groups_agree_with_the_patient_list(sandbox: Sandbox) -> None:
    body = sandbox.get(POPULATION).json()
    total = sandbox.get("/v1/patients?limit=1").json()["pagination"]["total"]
    assert body["total_patients"] == total == 150
    assert sum(body["by_gender"].values()) == total
    assert sum(b["patients"] for b in body["by_age_band"]) == total
    assert [b["band"] for b in body["by_age_band"]] == list(AGE_BANDS)


def test_population_numbers_match_a_recount(sandbox: Sandbox) -> None:
    body = sandbox.get(POPULATION).json()
    genders, diagnoses, medications, latest = Counter(), Counter(), Counter(), []
    for patient, entries in visible(sandbox):
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
    # The numbers beside the sentences, with the same digits (analytics.rounding).
    assert f"{body['mean_latest_pain_score']:g} on the 0-10 scale" in text
    assert f"{round(100 * body['severe_pain_share'], 2):g}% report severe pain" in text
    assert body["top_medications"][0]["name"] in text
