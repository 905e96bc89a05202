"""Outcomes and population health, computed from the clinical data, never invented.

Every number is a sum over the patients a client can see, of facts taken from
the same entries the clinical-data endpoints return: for a seeded patient from
its compact ``History`` (the facts ``fixtures.build_entries`` turns into
entries), for anything a client touched from its entries. Because the numbers
are sums, the seeded part is computed once per parameter set and cached, and a
client's view is that sum with its own patients' parts swapped in: what it
created counts, nothing of another client's does.

Definitions (what ``openapi/pin.yaml`` describes, made precise):

- A patient's *baseline* is its first pain score in the range, its *latest*
  the last; they are *evaluated* with a non-zero baseline and two or more
  scores, and *improved* with a reduction of at least 30% from the baseline.
- The trend runs from the first to the last period with a score in the range;
  periods between without scores are listed with ``count`` 0 and no mean.
  Weeks start on Monday, months on the 1st.
- A medication is *active in the range* when its order starts on or before the
  range's end and has not ended before its start; medications are counted by
  patients, keyed by RxNorm code (or by name when there is none).
- Population: ages are whole years on ``today``; a diagnosis counts when its
  latest status is active; a patient's latest pain score is its last one ever;
  the top medications are those ever ordered.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pin_mock.server.seed_data import MedicationSpan
from pin_mock.server.store import Store

THRESHOLD_PERCENT = 30
SEVERE_PAIN = 7
TOP = 10
AGE_BANDS = ("0-17", "18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+")


@dataclass(slots=True)
class Facts:
    """What analytics read of one patient (a seeded ``History`` has the same fields)."""

    days: Sequence[int]  # date ordinal of each pain score, oldest first
    scores: Sequence[int]
    diagnoses: tuple[tuple[str, str, bool], ...]  # (code, display, active)
    medications: tuple[MedicationSpan, ...]


def facts_from_entries(entries: Iterable[dict[str, Any]]) -> Facts:
    """The facts of a patient's entries (oldest first, as ``Store.entries`` returns them)."""
    days: list[int] = []
    scores: list[int] = []
    diagnoses: dict[str, tuple[str, str]] = {}
    medications: list[MedicationSpan] = []
    for entry in entries:
        kind, value = entry["data_type"], entry["value"]
        if kind == "pain_scores":
            days.append(_ordinal(entry["recorded_at"]))
            scores.append(value["score"])
        elif kind == "diagnoses":
            code = value["icd10_code"]
            display = diagnoses[code][0] if code in diagnoses else value["display"]
            diagnoses[code] = (display, value.get("status", "active"))
        elif kind == "medications":
            start = value.get("start_date") or entry["recorded_at"]
            end = value.get("end_date")
            medications.append(
                MedicationSpan(
                    value["name"],
                    value.get("rxnorm_code"),
                    _ordinal(start),
                    _ordinal(end) if end else None,
                )
            )
    return Facts(
        days=days,
        scores=scores,
        diagnoses=tuple((c, d, status == "active") for c, (d, status) in diagnoses.items()),
        medications=tuple(medications),
    )


# -- outcomes ----------------------------------------------------------------------


@dataclass
class _OutcomeSums:
    """Sums over patients for one date range; ``add`` with sign -1 takes a patient out."""

    days: dict[int, list[int]] = field(default_factory=dict)  # day -> [sum, count]
    patients: int = 0
    baseline: int = 0
    latest: int = 0
    evaluated: int = 0
    improved: int = 0
    medications: Counter[str] = field(default_factory=Counter)
    names: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def add(self, facts: Any, lo: int | None, hi: int | None, sign: int = 1) -> None:
        days, scores = facts.days, facts.scores
        i0 = 0 if lo is None else bisect_left(days, lo)
        i1 = len(days) if hi is None else bisect_right(days, hi)
        if i1 > i0:
            cells = self.days
            for i in range(i0, i1):
                cell = cells.get(days[i])
                if cell is None:
                    cell = cells[days[i]] = [0, 0]
                cell[0] += sign * scores[i]
                cell[1] += sign
            first, last = scores[i0], scores[i1 - 1]
            self.patients += sign
            self.baseline += sign * first
            self.latest += sign * last
            if first > 0 and i1 - i0 >= 2:
                self.evaluated += sign
                if 100 * (first - last) >= THRESHOLD_PERCENT * first:
                    self.improved += sign
        active = [
            med
            for med in facts.medications
            if (hi is None or med.start <= hi) and (lo is None or med.end is None or med.end >= lo)
        ]
        _count_medications(active, self.medications, self.names, sign)

    def copy(self) -> _OutcomeSums:
        return _OutcomeSums(
            {d: list(c) for d, c in self.days.items()},
            self.patients,
            self.baseline,
            self.latest,
            self.evaluated,
            self.improved,
            Counter(self.medications),
            dict(self.names),
        )


def outcomes(
    store: Store,
    client_id: str,
    *,
    start_date: str | None = None,
    end_date: str | None = None,
    patient_id: str | None = None,
    interval: str = "month",
) -> dict[str, Any]:
    """``GET /v1/analytics/outcomes`` for what ``client_id`` can see.

    An unknown ``patient_id`` (or another client's) raises ``NotFound``.
    """
    lo = _ordinal(start_date) if start_date else None
    hi = _ordinal(end_date) if end_date else None
    if patient_id is not None:
        sums = _OutcomeSums()
        sums.add(facts_from_entries(store.entries(client_id, patient_id)), lo, hi)
    else:
        sums = store.cached(
            client_id, ("outcomes", lo, hi), lambda: _client_outcomes(store, client_id, lo, hi)
        )
    return _outcomes_body(sums, lo, hi, interval, patient_id)


def _base_outcomes(store: Store, lo: int | None, hi: int | None) -> _OutcomeSums:
    sums = _OutcomeSums()
    for history in store.seed.histories.values():
        sums.add(history, lo, hi)
    return sums


def _client_outcomes(store: Store, client_id: str, lo: int | None, hi: int | None) -> _OutcomeSums:
    base = store.cached(None, ("outcomes", lo, hi), lambda: _base_outcomes(store, lo, hi))
    tenant = store.tenant(client_id)
    if not tenant.entries and not tenant.patients:
        return base
    sums = base.copy()
    histories = store.seed.histories
    for pid in set(tenant.entries) | set(tenant.patients):
        if pid in histories:
            sums.add(histories[pid], lo, hi, -1)
        sums.add(facts_from_entries(store.entries(client_id, pid)), lo, hi)
    return sums


def _outcomes_body(
    sums: _OutcomeSums, lo: int | None, hi: int | None, interval: str, patient_id: str | None
) -> dict[str, Any]:
    scored = sorted(day for day, (_, count) in sums.days.items() if count > 0)
    periods: dict[int, list[int]] = {}
    for day in scored:
        cell = periods.setdefault(_period_start(day, interval), [0, 0])
        cell[0] += sums.days[day][0]
        cell[1] += sums.days[day][1]
    trend = []
    if periods:
        period, last = min(periods), max(periods)
        while period <= last:
            total, count = periods.get(period, (0, 0))
            trend.append(
                {
                    "period_start": date.fromordinal(period).isoformat(),
                    "mean_pain_score": round(total / count, 2) if count else None,
                    "count": count,
                }
            )
            period = _next_period(period, interval)
    start = lo if lo is not None else (scored[0] if scored else None)
    end = hi if hi is not None else (scored[-1] if scored else None)
    n = sums.patients
    baseline = round(sums.baseline / n, 2) if n else None
    latest = round(sums.latest / n, 2) if n else None
    return {
        "start_date": date.fromordinal(start).isoformat() if start is not None else None,
        "end_date": date.fromordinal(end).isoformat() if end is not None else None,
        "interval": interval,
        "patient_id": patient_id,
        "patients": n,
        "trend": trend,
        "baseline_mean_pain_score": baseline,
        "latest_mean_pain_score": latest,
        "change_from_baseline": round((sums.latest - sums.baseline) / n, 2) if n else None,
        "improvement": {
            "threshold_percent": THRESHOLD_PERCENT,
            "patients_evaluated": sums.evaluated,
            "patients_improved": sums.improved,
            "share": round(sums.improved / sums.evaluated, 4) if sums.evaluated else None,
        },
        "medications": _medication_counts(sums.medications, sums.names, limit=None),
    }


# -- population health -------------------------------------------------------------


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
        _count_medications(facts.medications, self.medications, self.names, sign)

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


def population_health(store: Store, client_id: str, *, today: date | None = None) -> dict[str, Any]:
    """``GET /v1/analytics/population-health`` for what ``client_id`` can see."""
    today = today or datetime.now(UTC).date()
    sums = store.cached(
        client_id, ("population", today), lambda: _client_population(store, client_id, today)
    )
    return _population_body(sums)


def _base_population(store: Store, today: date) -> _PopulationSums:
    sums = _PopulationSums()
    histories = store.seed.histories
    for patient in store.seed.patients:
        sums.add(patient, histories[patient["id"]], today)
    return sums


def _client_population(store: Store, client_id: str, today: date) -> _PopulationSums:
    base = store.cached(None, ("population", today), lambda: _base_population(store, today))
    tenant = store.tenant(client_id)
    if not tenant.entries and not tenant.patients:
        return base
    sums = base.copy()
    histories = store.seed.histories
    for pid in set(tenant.entries) | set(tenant.patients):
        patient = store.get_patient(client_id, pid)
        if pid in histories:
            sums.add(patient, histories[pid], today, -1)
        sums.add(patient, facts_from_entries(store.entries(client_id, pid)), today)
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
        "top_medications": _medication_counts(sums.medications, sums.names, limit=TOP),
    }
    body["insights"] = insights(body, sums.scored)
    return body


def insights(population: dict[str, Any], scored: int) -> list[str]:
    """Plain-language observations, each derived from the numbers of ``population``."""
    total = population["total_patients"]
    if not total:
        return ["No patients yet: create one with POST /v1/patients."]
    lines = []
    if population["top_diagnoses"]:
        top = population["top_diagnoses"][0]
        lines.append(
            f"The most common active diagnosis is {top['display']} ({top['icd10_code']}): "
            f"{top['patients']} of {total} patients ({_percent(top['prevalence'])})."
        )
    if population["mean_latest_pain_score"] is not None:
        lines.append(
            f"{scored} patients have a pain score; their mean latest score is "
            f"{population['mean_latest_pain_score']:.1f} on the 0-10 scale, and "
            f"{_percent(population['severe_pain_share'])} report severe pain (7 or more)."
        )
    band = max(population["by_age_band"], key=lambda b: b["patients"])
    lines.append(
        f"The largest age band is {band['band']}: {band['patients']} patients "
        f"({_percent(band['patients'] / total)})."
    )
    genders = population["by_gender"]
    lines.append(
        f"{_percent(genders['female'] / total)} of patients are female and "
        f"{_percent(genders['male'] / total)} male."
    )
    if population["top_medications"]:
        med = population["top_medications"][0]
        lines.append(
            f"The most prescribed medication is {med['name']}: {med['patients']} patients "
            f"({_percent(med['patients'] / total)})."
        )
    return lines


# -- helpers ------------------------------------------------------------------------


def warm(store: Store, today: date | None = None) -> None:
    """Compute the seeded aggregates the default requests need (call at start-up)."""
    today = today or datetime.now(UTC).date()
    store.cached(None, ("outcomes", None, None), lambda: _base_outcomes(store, None, None))
    store.cached(None, ("population", today), lambda: _base_population(store, today))


def _medication_key(med: MedicationSpan) -> str:
    return med.rxnorm_code or f"name:{med.name.strip().lower()}"


def _count_medications(
    meds: Iterable[MedicationSpan],
    counts: Counter[str],
    names: dict[str, tuple[str, str | None]],
    sign: int,
) -> None:
    """Count one patient once per distinct medication in ``meds`` (``sign`` -1 removes)."""
    keys = set()
    for med in meds:
        key = _medication_key(med)
        names.setdefault(key, (med.name, med.rxnorm_code))
        keys.add(key)
    for key in keys:
        counts[key] += sign


def _medication_counts(
    counts: Counter[str], names: dict[str, tuple[str, str | None]], limit: int | None
) -> list[dict[str, Any]]:
    ranked = sorted(
        ((key, n) for key, n in counts.items() if n > 0), key=lambda x: (-x[1], names[x[0]][0])
    )
    return [
        {"name": names[key][0], "rxnorm_code": names[key][1], "patients": n}
        for key, n in ranked[:limit]
    ]


def _ordinal(stamp: str) -> int:
    """The date ordinal of ``YYYY-MM-DD`` or of a ``...Z`` timestamp's date."""
    return date.fromisoformat(stamp[:10]).toordinal()


def _period_start(day: int, interval: str) -> int:
    if interval == "week":
        return day - (day - 1) % 7  # ordinal 1 (0001-01-01) is a Monday
    return date.fromordinal(day).replace(day=1).toordinal()


def _next_period(period: int, interval: str) -> int:
    if interval == "week":
        return period + 7
    start = date.fromordinal(period)
    if start.month == 12:
        return date(start.year + 1, 1, 1).toordinal()
    return date(start.year, start.month + 1, 1).toordinal()


def _age_band(date_of_birth: str, today: date) -> str:
    # Read the digits rather than parse a date: a stored birth date is never refused here.
    year, month, day = (int(part) for part in date_of_birth[:10].split("-"))
    age = today.year - year - ((today.month, today.day) < (month, day))
    if age < 18:
        return AGE_BANDS[0]
    if age < 30:
        return AGE_BANDS[1]
    return AGE_BANDS[min(len(AGE_BANDS) - 1, age // 10 - 1)]


def _percent(share: float | None) -> str:
    return f"{100 * (share or 0):.1f}%"
