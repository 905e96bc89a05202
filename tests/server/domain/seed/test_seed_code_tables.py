"""The seed's code tables: only checked codes, and a bad table stops start-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pin_mock._bundled import fixtures_dir
from pin_mock.server.domain.seed.code_tables import CodeTables
from pin_mock.server.domain.seed.generator import generate
from pin_mock.server.errors import ConfigError

FIXTURES = fixtures_dir()


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


def test_code_tables_hold_only_checked_codes() -> None:
    codes = CodeTables.load(FIXTURES)
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
        generate(target, seed=42, patients=5)
