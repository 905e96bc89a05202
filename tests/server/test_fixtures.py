"""Seeded synthetic data: deterministic, coherent, spec-shaped, from cited code tables."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from connexion.json_schema import Draft4ResponseValidator
from harness import Sandbox
from jsonschema import Draft4Validator
from spec_conformance import spec

from pin_mock._bundled import fixtures_dir
from pin_mock.server import seed_data as fixtures
from pin_mock.server.errors import ConfigError

FIXTURES = fixtures_dir()
#: The RxNorm ids of domain-facts.md plus gabapentin 300 MG capsule, each cross-checked.
RXCUIS = {
    "Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet": "1049221",
    "Tramadol Hydrochloride 50 MG Oral Tablet": "835603",
    "Pregabalin 100 MG Oral Capsule": "483438",
    "Duloxetine 20 MG Delayed Release Oral Capsule": "596926",
    "Naproxen 500 MG Oral Tablet": "198014",
    "Ibuprofen 200 MG Oral Tablet": "310965",
    "Acetaminophen 325 MG Oral Tablet": "313782",
    "Gabapentin 300 MG Oral Capsule": "310431",
}
ICD10CM = {
    "G89.21", "G89.28", "G89.29", "G89.4", "M54.2", "M54.16", "M54.50", "M54.51", "M54.59",
    "M79.7", "G43.909", "M17.11",
}  # fmt: skip


@pytest.fixture(scope="module")
def seed150() -> fixtures.SeedData:
    return fixtures.generate(FIXTURES, seed=42, patients=150)


def everything(data: fixtures.SeedData) -> tuple[list, dict]:
    return data.patients, {p["id"]: data.entries[p["id"]] for p in data.patients}


def test_same_seed_gives_identical_data(seed150: fixtures.SeedData) -> None:
    again = fixtures.generate(FIXTURES, seed=42, patients=150)
    assert everything(again) == everything(seed150)
    assert again.histories == seed150.histories


def test_another_seed_gives_different_data(seed150: fixtures.SeedData) -> None:
    other = fixtures.generate(FIXTURES, seed=43, patients=150)
    generated = [p for p in seed150.patients if p["id"] != "patient_123"]
    assert [p["name"] for p in other.patients if p["id"] != "patient_123"] != [
        p["name"] for p in generated
    ]
    assert other.entries["patient_1"] != seed150.entries["patient_1"]


def test_a_patient_is_the_same_whatever_the_size(seed150: fixtures.SeedData) -> None:
    larger = fixtures.generate(FIXTURES, seed=42, patients=400)
    assert larger.patients[:150] == seed150.patients
    assert all(larger.entries[f"patient_{n}"] == seed150.entries[f"patient_{n}"] for n in (1, 77))


def test_fixed_patient_is_verbatim_and_kept_beyond_the_size() -> None:
    data = fixtures.generate(FIXTURES, seed=7, patients=10)
    assert [p["id"] for p in data.patients][-1] == "patient_123"
    assert len(data.patients) == 11
    john = next(p for p in data.patients if p["id"] == "patient_123")
    assert john["name"] == "John Doe" and john["created_at"] == "2024-01-01T00:00:00Z"
    assert data.entries["patient_123"], "the fixed patient has a history too"


def test_history_hint_pins_the_first_diagnosis_and_visit(tmp_path: Path) -> None:
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)
    records = yaml.safe_load((target / "patients.yaml").read_text())
    records["patients"][0]["history"] = {"primary": "M54.50", "onset": "2023-03-02"}
    (target / "patients.yaml").write_text(yaml.safe_dump(records))
    data = fixtures.generate(target, seed=42, patients=150)
    john = next(p for p in data.patients if p["id"] == "patient_123")
    assert "history" not in john
    first = next(e for e in data.entries["patient_123"] if e["data_type"] == "diagnoses")
    assert (first["value"]["icd10_code"], first["recorded_at"][:10]) == ("M54.50", "2023-03-02")
    pain = [e for e in data.entries["patient_123"] if e["data_type"] == "pain_scores"]
    assert pain[-1]["recorded_at"] >= "2024-11-01", "a pinned history is followed to the end"


def test_records_and_entries_match_the_spec_schemas(seed150: fixtures.SeedData) -> None:
    schemas = spec()["components"]["schemas"]
    checker = Draft4Validator.FORMAT_CHECKER
    entry = Draft4ResponseValidator(schemas["ClinicalDataEntry"], format_checker=checker)
    contact = Draft4ResponseValidator(schemas["Contact"], format_checker=checker)
    for patient in seed150.patients:
        assert patient["gender"] in schemas["Gender"]["enum"]
        assert not list(contact.iter_errors(patient["contact"])), patient
        date.fromisoformat(patient["date_of_birth"])
        for item in seed150.entries[patient["id"]]:
            errors = list(entry.iter_errors(item))
            assert not errors, (item, errors[0].message)


def test_histories_are_coherent(seed150: fixtures.SeedData) -> None:
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
        assert entries[-1]["recorded_at"][:10] <= fixtures.ANCHOR.isoformat()


def test_some_patients_improve_and_some_do_not(seed150: fixtures.SeedData) -> None:
    improved = 0
    for history in seed150.histories.values():
        first, last = history.scores[0], history.scores[-1]
        improved += first > 0 and 10 * (first - last) >= 3 * first
    assert 0.2 * 150 < improved < 0.8 * 150
    stopped = sum(any(m.end for m in h.medications) for h in seed150.histories.values())
    assert stopped > 10, "some first drugs are stopped and replaced"


def test_code_tables_hold_only_checked_codes() -> None:
    codes = fixtures.CodeTables.load(FIXTURES)
    assert {m["name"]: m["rxcui"] for m in codes.medications} == RXCUIS
    assert {d["code"] for d in codes.diagnoses} == ICD10CM, "M54.5 was retired in 2021"
    assert {p["code"] for p in codes.procedures if "code" in p} == {"3E0R33Z", "3E0U33Z"}
    assert {v["loinc"] for v in codes.vitals} == {
        "8867-4", "9279-1", "2708-6", "8302-2", "29463-7", "39156-5",
    }  # fmt: skip


def test_a_table_naming_an_unknown_code_stops_start_up(tmp_path: Path) -> None:
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)
    meds = yaml.safe_load((target / "codes" / "medications.yaml").read_text())
    meds["medications"][0]["treats"].append("Z99.99")
    (target / "codes" / "medications.yaml").write_text(yaml.safe_dump(meds))
    with pytest.raises(ConfigError, match="unknown codes"):
        fixtures.generate(target, seed=42, patients=5)


def test_entries_are_rebuilt_identically_after_leaving_the_cache() -> None:
    data = fixtures.generate(FIXTURES, seed=42, patients=20, cache_size=2)
    first = [list(data.entries[f"patient_{n}"]) for n in (1, 2, 3)]
    assert [data.entries[f"patient_{n}"] for n in (1, 2, 3)] == first
    with pytest.raises(KeyError):
        data.entries["patient_999"]


def test_two_apps_with_one_seed_answer_identically(sandbox_factory) -> None:
    urls = [
        "/v1/patients?limit=100&page=2",
        "/v1/patients/patient_42",
        "/v1/patients/patient_42/clinical-data?limit=100",
        "/v1/analytics/outcomes?interval=week&start_date=2024-01-01",
        "/v1/analytics/population-health",
    ]
    first, second = sandbox_factory(), sandbox_factory()
    for url in urls:
        assert first.get(url).content == second.get(url).content, url
    third = sandbox_factory(seed=1)
    assert third.get(urls[0]).content != first.get(urls[0]).content


def test_default_sandbox_has_the_documented_example_records(sandbox: Sandbox) -> None:
    assert sandbox.get("/v1/patients/patient_123").status_code == 200
    assert sandbox.get("/v1/patients?limit=1").json()["pagination"]["total"] == 150
