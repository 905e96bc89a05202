"""``GET /v1/analytics/outcomes``: pain-score outcomes over a date range.

Definitions (what ``openapi/pin.yaml`` describes, made precise):

- A patient's *baseline* is its first pain score in the range, its *latest*
  the last; they are *evaluated* with a non-zero baseline and two or more
  scores, and *improved* with a reduction of at least 30% from the baseline.
- The trend runs from the first to the last period with a score in the range;
  periods between without scores are listed with ``count`` 0 and no mean.
  Weeks start on Monday, months on the 1st.
- A medication is *active in the range* when its order starts on or before the
  range's end and has not ended before its start.

The sums over the seeded patients are cached per range; a client's view
starts from them and swaps its own patients' parts in (see the package
docstring).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from pin_mock.server.domain.analytics.facts import facts_from_entries, ordinal
from pin_mock.server.domain.analytics.medications import count_medications, medication_counts

if TYPE_CHECKING:
    from pin_mock.server.domain.store import Store
    from pin_mock.server.state.ports import TenantData

THRESHOLD_PERCENT = 30


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
        count_medications(active, self.medications, self.names, sign)

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


async def outcomes(
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
    lo = ordinal(start_date) if start_date else None
    hi = ordinal(end_date) if end_date else None
    if patient_id is not None:
        sums = _OutcomeSums()
        sums.add(facts_from_entries(await store.entries(client_id, patient_id)), lo, hi)
    else:
        sums = await store.derived(
            client_id, ("outcomes", lo, hi), lambda data: _client_outcomes(store, data, lo, hi)
        )
    return _outcomes_body(sums, lo, hi, interval, patient_id)


def seeded_outcomes(store: Store, lo: int | None, hi: int | None) -> _OutcomeSums:
    """The sums over the seeded patients for a range, computed once and cached."""
    return store.cached(("outcomes", lo, hi), lambda: _base_outcomes(store, lo, hi))


def _base_outcomes(store: Store, lo: int | None, hi: int | None) -> _OutcomeSums:
    sums = _OutcomeSums()
    for history in store.seed.histories.values():
        sums.add(history, lo, hi)
    return sums


def _client_outcomes(
    store: Store, data: TenantData, lo: int | None, hi: int | None
) -> _OutcomeSums:
    base = seeded_outcomes(store, lo, hi)
    if not data.entries and not data.patients:
        return base
    sums = base.copy()
    histories = store.seed.histories
    for pid in set(data.entries) | set(data.patients):
        if pid in histories:
            sums.add(histories[pid], lo, hi, -1)
        sums.add(facts_from_entries(store.merge_entries(pid, data.entries.get(pid, []))), lo, hi)
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
        "medications": medication_counts(sums.medications, sums.names, limit=None),
    }


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
