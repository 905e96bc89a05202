"""Seeded histories: coherent courses of care, some improving and some not."""

from __future__ import annotations

from pin_mock.server.domain.seed.generator import SeedData
from pin_mock.server.domain.seed.sampling import ANCHOR


def test_histories_are_coherent(seed150: SeedData) -> None:
    treats = {m["rxcui"]: set(m["treats"]) for m in seed150.codes.medications}
    monitored = {m["rxcui"]: set(m.get("monitor", ())) for m in seed150.codes.medications}
    for patient in seed150.patients:
        entries = seed150.entries[patient["id"]]
        by_type: dict[str, list] = {}
        for e in entries:
            by_type.setdefault(e["data_type"], []).append(e)
        assert [e["recorded_at"] for e in entries] == sorted(e["recorded_at"] for e in entries)
        first_visit = by_type["pain_scores"][0]["recorded_at"][:10]
        diagnoses = by_type["diagnoses"]
        assert diagnoses[0]["recorded_at"][:10] == first_visit, "diagnosed at the first visit"
        onset = {}
        for d in diagnoses:
            onset.setdefault(d["value"]["icd10_code"], d["recorded_at"][:10])
            if d["value"]["status"] == "resolved":
                assert d["recorded_at"][:10] > onset[d["value"]["icd10_code"]]
        assert patient["created_at"] < entries[0]["recorded_at"]
        for med in by_type.get("medications", []):
            value = med["value"]
            assert value["reason_code"] in onset, "a drug is for one of the patient's diagnoses"
            assert value["reason_code"] in treats[value["rxnorm_code"]]
            assert value["start_date"] >= onset[value["reason_code"]]
            assert value["end_date"] is None or value["end_date"] >= value["start_date"]
            labs = {
                (lab["value"]["loinc_code"])
                for lab in by_type.get("lab_results", [])
                if lab["recorded_at"][:10] > value["start_date"]
            }
            if value["start_date"] <= "2024-12-25":  # labs after the anchor day are not drawn
                assert monitored[value["rxnorm_code"]] <= labs, "monitoring labs follow the drug"
        assert all(0 <= e["value"]["score"] <= 10 for e in by_type["pain_scores"])
        assert len({e["value"]["location"] for e in by_type["pain_scores"]}) == 1
        assert entries[-1]["recorded_at"][:10] <= ANCHOR.isoformat()


def test_some_patients_improve_and_some_do_not(seed150: SeedData) -> None:
    improved = 0
    for history in seed150.histories.values():
        first, last = history.scores[0], history.scores[-1]
        improved += first > 0 and 10 * (first - last) >= 3 * first
    assert 0.2 * 150 < improved < 0.8 * 150
    stopped = sum(any(m.end for m in h.medications) for h in seed150.histories.values())
    assert stopped > 10, "some first drugs are stopped and replaced"
