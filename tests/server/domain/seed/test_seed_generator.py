"""The seed's generator: deterministic per seed and per patient, fixed records kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from harness import Sandbox
from pin_mock._bundled import fixtures_dir
from pin_mock.server.domain.seed.generator import SeedData, generate

FIXTURES = fixtures_dir()


def everything(data: SeedData) -> tuple[list, dict]:
    return data.patients, {p["id"]: data.entries[p["id"]] for p in data.patients}


def test_same_seed_gives_identical_data(seed150: SeedData) -> None:
    again = generate(FIXTURES, seed=42, patients=150)
    assert everything(again) == everything(seed150)
    assert again.histories == seed150.histories


def test_another_seed_gives_different_data(seed150: SeedData) -> None:
    other = generate(FIXTURES, seed=43, patients=150)
    generated = [p for p in seed150.patients if p["id"] != "patient_123"]
    assert [p["name"] for p in other.patients if p["id"] != "patient_123"] != [
        p["name"] for p in generated
    ]
    assert other.entries["patient_1"] != seed150.entries["patient_1"]


def test_a_patient_is_the_same_whatever_the_size(seed150: SeedData) -> None:
    larger = generate(FIXTURES, seed=42, patients=400)
    assert larger.patients[:150] == seed150.patients
    assert all(larger.entries[f"patient_{n}"] == seed150.entries[f"patient_{n}"] for n in (1, 77))


def test_fixed_patient_is_verbatim_and_kept_beyond_the_size() -> None:
    data = generate(FIXTURES, seed=7, patients=10)
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
    data = generate(target, seed=42, patients=150)
    john = next(p for p in data.patients if p["id"] == "patient_123")
    assert "history" not in john
    first = next(e for e in data.entries["patient_123"] if e["data_type"] == "diagnoses")
    assert (first["value"]["icd10_code"], first["recorded_at"][:10]) == ("M54.50", "2023-03-02")
    pain = [e for e in data.entries["patient_123"] if e["data_type"] == "pain_scores"]
    assert pain[-1]["recorded_at"] >= "2024-11-01", "a pinned history is followed to the end"


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
