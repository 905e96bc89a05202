"""Seeded, synthetic sandbox data: Faker demographics plus coherent clinical histories.

Code tables (ICD-10-CM, RxNorm, LOINC ...) and fixed records live in
``fixtures/`` as YAML; this module only reads them and draws from them with a
seeded random generator, so the same seed and size give identical data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from faker import Faker

from pin_mock.errors import ConfigError

#: Seeded histories end here, so the data does not move with the calendar.
ANCHOR = date(2024, 12, 31)
BODY_SITES = ["lower_back", "neck", "knee", "head", "shoulder", "hip", "widespread"]
SITE_FOR_CODE = {
    "M54.50": "lower_back",
    "M54.59": "lower_back",
    "M54.16": "lower_back",
    "M54.2": "neck",
    "M17.11": "knee",
    "G43.909": "head",
    "M79.7": "widespread",
}


@dataclass
class CodeTables:
    """The clinical code tables from ``fixtures/codes``."""

    diagnoses: list[dict[str, Any]]
    medications: list[dict[str, Any]]
    vitals: list[dict[str, Any]]
    labs: list[dict[str, Any]]
    procedures: list[dict[str, Any]]

    @classmethod
    def load(cls, fixtures: Path) -> CodeTables:
        """Read every table; a missing or malformed file stops start-up."""
        tables = {}
        for name in ("diagnoses", "medications", "vitals", "labs", "procedures"):
            path = fixtures / "codes" / f"{name}.yaml"
            try:
                tables[name] = yaml.safe_load(path.read_text(encoding="utf-8"))[name]
            except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
                raise ConfigError(f"cannot read code table {path}: {exc}") from exc
        return cls(**tables)


@dataclass
class SeedData:
    """The base data every client sees."""

    patients: list[dict[str, Any]]
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    codes: CodeTables | None = None


def load_fixed_patients(fixtures: Path) -> list[dict[str, Any]]:
    """The verbatim records of ``fixtures/patients.yaml``."""
    path = fixtures / "patients.yaml"
    try:
        return list(yaml.safe_load(path.read_text(encoding="utf-8"))["patients"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def generate(fixtures: Path, *, seed: int, patients: int) -> SeedData:
    """Build ``patients`` patients (fixed records included) with their histories."""
    codes = CodeTables.load(fixtures)
    fixed = {p["id"]: p for p in load_fixed_patients(fixtures)}
    faker = Faker("en_US")
    faker.seed_instance(seed)
    rng = random.Random(seed)
    data = SeedData(patients=[], codes=codes)
    for n in range(1, patients + 1):
        pid = f"patient_{n}"
        patient = fixed.get(pid) or _fake_patient(faker, rng, pid)
        data.patients.append(patient)
        data.entries[pid] = _history(rng, codes, pid)
    # Fixed records beyond the requested size are still present: the docs rely on them.
    for pid, patient in fixed.items():
        if pid not in data.entries:
            data.patients.append(patient)
            data.entries[pid] = _history(random.Random(f"{seed}:{pid}"), codes, pid)
    return data


def _fake_patient(faker: Faker, rng: random.Random, pid: str) -> dict[str, Any]:
    gender = rng.choices(["female", "male", "other", "unknown"], weights=[52, 45, 2, 1])[0]
    if gender == "female":
        first = faker.first_name_female()
    elif gender == "male":
        first = faker.first_name_male()
    else:
        first = faker.first_name_nonbinary()
    last = faker.last_name()
    dob = faker.date_of_birth(minimum_age=18, maximum_age=90)
    dob = min(dob, ANCHOR - timedelta(days=18 * 366))
    created = datetime.combine(ANCHOR - timedelta(days=rng.randint(400, 1400)), time(), UTC)
    created += timedelta(seconds=rng.randint(0, 86_399))
    contact: dict[str, str] = {
        "email": f"{first}.{last}{rng.randint(1, 99)}@example.com".lower().replace(" ", ""),
    }
    if rng.random() < 0.85:
        contact["phone"] = f"+1-555-{rng.randint(100, 999):03d}-{rng.randint(0, 9999):04d}"
    return {
        "id": pid,
        "name": f"{first} {last}",
        "date_of_birth": dob.isoformat(),
        "gender": gender,
        "contact": contact,
        "created_at": _ts(created),
    }


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _history(rng: random.Random, codes: CodeTables, pid: str) -> list[dict[str, Any]]:
    """Diagnoses first, then medications for them, then pain scores that trend."""
    entries: list[dict[str, Any]] = []
    seq = 0

    def add(data_type: str, when: datetime, value: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        stamp = _ts(when)
        entries.append(
            {
                "id": f"cd_{pid.removeprefix('patient_')}_{seq}",
                "patient_id": pid,
                "data_type": data_type,
                "recorded_at": stamp,
                "value": value,
                "created_at": stamp,
            }
        )

    start = ANCHOR - timedelta(days=rng.randint(120, 360))
    weights = [d["weight"] for d in codes.diagnoses]
    chosen = {d["code"]: d for d in rng.choices(codes.diagnoses, weights=weights, k=2)}
    onset = datetime.combine(start, time(9), UTC)
    for diagnosis in chosen.values():
        add(
            "diagnoses",
            onset,
            {
                "icd10_code": diagnosis["code"],
                "display": diagnosis["display"],
                "status": "active",
            },
        )
    for diagnosis in chosen.values():
        options = [m for m in codes.medications if diagnosis["code"] in m["treats"]]
        if options:
            med = rng.choice(options)
            med_start = onset + timedelta(days=rng.randint(0, 14))
            add(
                "medications",
                med_start,
                {
                    "name": med["name"],
                    "rxnorm_code": med["rxcui"],
                    "dose": med["dose"],
                    "frequency": med["frequency"],
                    "route": med["route"],
                    "start_date": med_start.date().isoformat(),
                    "end_date": None,
                    "reason_code": diagnosis["code"],
                },
            )
    site = SITE_FOR_CODE.get(next(iter(chosen)), rng.choice(BODY_SITES))
    baseline = rng.randint(5, 9)
    # Some patients improve markedly, some a little, some get worse.
    slope = rng.choice([-0.6, -0.45, -0.3, -0.15, 0.0, 0.1])
    visit = onset
    month = 0
    while visit.date() <= ANCHOR:
        score = round(baseline + slope * month + rng.uniform(-1, 1))
        add(
            "pain_scores",
            visit + timedelta(hours=1),
            {
                "score": max(0, min(10, score)),
                "scale": "NRS",
                "location": site,
            },
        )
        vital = rng.choice(codes.vitals)
        value = round(rng.uniform(vital["low"], vital["high"]), vital["decimals"])
        add(
            "vitals",
            visit + timedelta(hours=1, minutes=5),
            {
                "loinc_code": vital["loinc"],
                "name": vital["name"],
                "value": value,
                "unit": vital["unit"],
            },
        )
        month += 1
        visit += timedelta(days=rng.randint(25, 35))
    if rng.random() < 0.5:
        lab = rng.choice(codes.labs)
        value = round(rng.uniform(lab["low"], lab["high"]), lab["decimals"])
        flag = "high" if value > lab["ref_high"] else "low" if value < lab["ref_low"] else "normal"
        add(
            "lab_results",
            onset + timedelta(days=3),
            {
                "loinc_code": lab["loinc"],
                "name": lab["name"],
                "value": value,
                "unit": lab["unit"],
                "reference_low": lab["ref_low"],
                "reference_high": lab["ref_high"],
                "flag": flag,
            },
        )
    if rng.random() < 0.3:
        proc = rng.choice(codes.procedures)
        add(
            "procedures",
            onset + timedelta(days=rng.randint(20, 60)),
            {
                "code": proc["code"],
                "code_system": proc["code_system"],
                "name": proc["name"],
                "body_site": proc["body_site"],
            },
        )
    entries.sort(key=lambda e: (e["recorded_at"], e["id"]))
    return entries
