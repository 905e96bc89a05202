"""The clinical-data entries of a seeded patient, built from its history on first use.

Building is deterministic (a second per-patient generator, seeded with
``(seed, N, "entries")``), so an entry dropped from the bounded cache is rebuilt
identical: ids, timestamps and values. Vitals come at every visit (height,
BMI and the rest at the first), labs mostly within their reference ranges.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from pin_mock.server.domain.seed.code_tables import CodeTables
from pin_mock.server.domain.seed.history import History
from pin_mock.server.domain.seed.sampling import stamp_at

#: Entries kept built at once; the default sandbox (150 patients) fits entirely.
ENTRY_CACHE_SIZE = 4096


class SeedEntries(Mapping[str, list[dict[str, Any]]]):
    """Patient id -> entries, built from the histories on first use (bounded cache)."""

    def __init__(
        self, histories: dict[str, History], codes: CodeTables, seed: int, size: int
    ) -> None:
        self._histories = histories
        self._codes = codes
        self._seed = seed
        self._size = size
        self._cache: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def __getitem__(self, patient_id: str) -> list[dict[str, Any]]:
        entries = self._cache.get(patient_id)
        if entries is not None:
            self._cache.move_to_end(patient_id)
            return entries
        history = self._histories[patient_id]
        entries = build_entries(history, patient_id, self._codes, self._seed)
        self._cache[patient_id] = entries
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._histories)

    def __len__(self) -> int:
        return len(self._histories)


def build_entries(
    history: History, patient_id: str, codes: CodeTables, seed: int
) -> list[dict[str, Any]]:
    """Every entry of a seeded patient, oldest first, from its history."""
    rng = random.Random(f"{seed}:{history.number}:entries")
    rows: list[tuple[str, int, str, dict[str, Any]]] = []  # (recorded_at, order, type, value)
    visit = {day: rng.randrange(8 * 60, 16 * 60 + 1, 15) for day in history.days}

    def at(day: int, offset: int, default: int = 10 * 60) -> str:
        return stamp_at(day, visit.get(day, default) + offset)

    height = rng.uniform(codes.vital("body_height")["low"], codes.vital("body_height")["high"])
    bmi = rng.uniform(codes.vital("bmi")["low"], codes.vital("bmi")["high"])
    weight = bmi * (height / 100) ** 2
    pulse = rng.uniform(62, 86)
    heart = codes.vital("heart_rate")
    for i, (day, score) in enumerate(zip(history.days, history.scores, strict=True)):
        rows.append(
            (
                at(day, 0),
                0,
                "pain_scores",
                {"score": score, "scale": "NRS", "location": history.site},
            )
        )
        beat = min(heart["high"], max(heart["low"], pulse + rng.gauss(0, 5)))
        rows.append((at(day, 3), 1, "vitals", _vital(heart, beat)))
        if i == 0:
            rows.append((at(day, 3), 2, "vitals", _vital(codes.vital("body_height"), height)))
            rows.append((at(day, 3), 3, "vitals", _vital(codes.vital("body_weight"), weight)))
            rows.append((at(day, 3), 4, "vitals", _vital(codes.vital("bmi"), bmi)))
            for name, mean, sd in (("respiratory_rate", 15, 2), ("oxygen_saturation", 97.5, 1)):
                table = codes.vital(name)
                value = min(table["high"], max(table["low"], rng.gauss(mean, sd)))
                rows.append((at(day, 3), 5, "vitals", _vital(table, value)))
        else:
            weight += rng.gauss(0, 0.6)
            rows.append((at(day, 3), 3, "vitals", _vital(codes.vital("body_weight"), weight)))
    for (code, display, _), day in zip(history.diagnoses, history.diagnosis_days, strict=True):
        value = {"icd10_code": code, "display": display, "status": "active"}
        rows.append((at(day, 10), 6, "diagnoses", value))
    if history.resolved_day is not None:
        code, display, _ = history.diagnoses[0]
        value = {"icd10_code": code, "display": display, "status": "resolved"}
        rows.append((at(history.resolved_day, 10), 6, "diagnoses", value))
    for span, (row, reason) in zip(history.medications, history.medication_rows, strict=True):
        med = codes.medications[row]
        value = {
            "name": span.name,
            "rxnorm_code": span.rxnorm_code,
            "dose": med["dose"],
            "frequency": med["frequency"],
            "route": med["route"],
            "start_date": date.fromordinal(span.start).isoformat(),
            "end_date": date.fromordinal(span.end).isoformat() if span.end else None,
            "reason_code": reason,
        }
        rows.append((at(span.start, 15), 7, "medications", value))
    for row, day in history.labs:
        lab = codes.labs[row]
        if rng.random() < 0.8:
            low, high = max(lab["low"], lab["ref_low"]), min(lab["high"], lab["ref_high"])
        else:
            low, high = lab["low"], lab["high"]
        number = (
            round(rng.uniform(low, high), lab["decimals"])
            if lab["decimals"]
            else round(rng.uniform(low, high))
        )
        flag = (
            "high" if number > lab["ref_high"] else "low" if number < lab["ref_low"] else "normal"
        )
        value = {
            "loinc_code": lab["loinc"],
            "name": lab["name"],
            "value": number,
            "unit": lab["unit"],
            "reference_low": lab["ref_low"],
            "reference_high": lab["ref_high"],
            "flag": flag,
        }
        rows.append(
            (stamp_at(day, rng.randrange(7 * 60 + 30, 11 * 60, 5)), 8, "lab_results", value)
        )
    for row, day in history.procedures:
        proc = codes.procedures[row]
        value = {"name": proc["name"], "body_site": proc["body_site"]}
        if proc.get("code"):
            value = {"code": proc["code"], "code_system": proc["code_system"], **value}
        rows.append((stamp_at(day, rng.randrange(10 * 60, 15 * 60, 15)), 9, "procedures", value))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [
        {
            "id": f"cd_{history.number:07x}{k:05x}",
            "patient_id": patient_id,
            "data_type": data_type,
            "recorded_at": stamp,
            "value": value,
            "created_at": stamp,
        }
        for k, (stamp, _, data_type, value) in enumerate(rows, start=1)
    ]


def _vital(table: dict[str, Any], value: float) -> dict[str, Any]:
    decimals = table["decimals"]
    number = round(value, decimals) if decimals else round(value)
    return {
        "loinc_code": table["loinc"],
        "name": table["name"],
        "value": number,
        "unit": table["unit"],
    }
