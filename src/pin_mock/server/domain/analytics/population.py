"""``GET /v1/analytics/population-health``: who the patients are and how they fare.

Definitions: ages are whole years on ``today`` (the sandbox clock's date); a
diagnosis counts when its latest status is active; a patient's latest pain
score is its last one ever, and severe from 7; the top medications are those
ever ordered. The plain-language ``insights`` are derived from these numbers.

The sums over the seeded patients are cached per day; a client's view starts
from them and swaps its own patients' parts in (see the package docstring).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pin_mock.server.domain.analytics.facts import facts_from_entries
from pin_mock.server.domain.analytics.insights import insights
from pin_mock.server.domain.analytics.medications import count_medications, medication_counts

if TYPE_CHECKING:
    from pin_mock.server.domain.store import Store
    from pin_mock.server.state.ports import TenantData

SEVERE_PAIN = 7
TOP = 10
AGE_BANDS = ("0-17", "18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+")


@dataclass
class _PopulationSums:
    total: int = 0
    genders: Counter[str] = field(default_factory=Counter)
    bands: Counter[str] = field(default_factory=Counter)
    diagnoses: Counter[str] = field(default_factory=Counter)
    displays: dict[str, str] = field(default_factory=dict)
    scored: int = 0
    latest: int = 0
    severe: int = 0
    medications: Counter[str] = field(default_factory=Counter)
    names: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def add(self, patient: dict[str, Any], facts: Any, today: date, sign: int = 1) -> None:
        self.total += sign
        self.genders[patient.get("gender") or "unknown"] += sign
        self.bands[_age_band(patient["date_of_birth"], today)] += sign
        for code, display, active in facts.diagnoses:
            if active:
                self.displays.setdefault(code, display)
                self.diagnoses[code] += sign
        if len(facts.scores):
            last = facts.scores[-1]
            self.scored += sign
            self.latest += sign * last
            if last >= SEVERE_PAIN:
                self.severe += sign
        count_medications(facts.medications, self.medications, self.names, sign)

    def copy(self) -> _PopulationSums:
        return _PopulationSums(
            self.total,
            Counter(self.genders),
            Counter(self.bands),
            Counter(self.diagnoses),
            dict(self.displays),
            self.scored,
            self.latest,
            self.severe,
            Counter(self.medications),
            dict(self.names),
        )


async def population_health(
    store: Store, client_id: str, *, today: date | None = None
) -> dict[str, Any]:
    """``GET /v1/analytics/population-health`` for what ``client_id`` can see."""
    today = today or datetime.now(UTC).date()
    sums = await store.derived(
        client_id, ("population", today), lambda data: _client_population(store, data, today)
    )
    return _population_body(sums)


def seeded_population(store: Store, today: date) -> _PopulationSums:
    """The sums over the seeded patients on ``today``, computed once and cached."""
    return store.cached(("population", today), lambda: _base_population(store, today))


def _base_population(store: Store, today: date) -> _PopulationSums:
    sums = _PopulationSums()
    histories = store.seed.histories
    for patient in store.seed.patients:
        sums.add(patient, histories[patient["id"]], today)
    return sums


def _client_population(store: Store, data: TenantData, today: date) -> _PopulationSums:
    base = seeded_population(store, today)
    if not data.entries and not data.patients:
        return base
    sums = base.copy()
    histories = store.seed.histories
    seeded = store.seed_patient
    for pid in set(data.entries) | set(data.patients):
        patient = data.patients.get(pid) or seeded(pid)
        if patient is None:  # entries of a patient that is gone (cannot happen: kept together)
            continue
        if pid in histories:
            sums.add(patient, histories[pid], today, -1)
        entries = store.merge_entries(pid, data.entries.get(pid, []))
        sums.add(patient, facts_from_entries(entries), today)
    return sums


def _population_body(sums: _PopulationSums) -> dict[str, Any]:
    total = sums.total
    diagnoses = sorted(
        ((code, n) for code, n in sums.diagnoses.items() if n > 0), key=lambda x: (-x[1], x[0])
    )[:TOP]
    body: dict[str, Any] = {
        "total_patients": total,
        "by_gender": {g: sums.genders.get(g, 0) for g in ("male", "female", "other", "unknown")},
        "by_age_band": [{"band": band, "patients": sums.bands.get(band, 0)} for band in AGE_BANDS],
        "top_diagnoses": [
            {
                "icd10_code": code,
                "display": sums.displays[code],
                "patients": n,
                "prevalence": round(n / total, 4) if total else 0.0,
            }
            for code, n in diagnoses
        ],
        "mean_latest_pain_score": round(sums.latest / sums.scored, 2) if sums.scored else None,
        "severe_pain_share": round(sums.severe / sums.scored, 4) if sums.scored else None,
        "top_medications": medication_counts(sums.medications, sums.names, limit=TOP),
    }
    body["insights"] = insights(body, sums.scored)
    return body


def _age_band(date_of_birth: str, today: date) -> str:
    # Read the digits rather than parse a date: a stored birth date is never refused here.
    year, month, day = (int(part) for part in date_of_birth[:10].split("-"))
    age = today.year - year - ((today.month, today.day) < (month, day))
    if age < 18:
        return AGE_BANDS[0]
    if age < 30:
        return AGE_BANDS[1]
    return AGE_BANDS[min(len(AGE_BANDS) - 1, age // 10 - 1)]
