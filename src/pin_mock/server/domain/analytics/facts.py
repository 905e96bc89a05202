"""What analytics read of one patient: its pain scores, diagnoses and medications.

For a seeded patient these are its compact ``seed.History`` (which has the
same fields, so no entries need building); for anything a client touched they
are read from its entries with ``facts_from_entries``. Days are date ordinals,
so ranges are integer comparisons and bisections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pin_mock.server.domain.seed.history import MedicationSpan


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
            days.append(ordinal(entry["recorded_at"]))
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
                    ordinal(start),
                    ordinal(end) if end else None,
                )
            )
    return Facts(
        days=days,
        scores=scores,
        diagnoses=tuple((c, d, status == "active") for c, (d, status) in diagnoses.items()),
        medications=tuple(medications),
    )


def ordinal(stamp: str) -> int:
    """The date ordinal of ``YYYY-MM-DD`` or of a ``...Z`` timestamp's date."""
    return date.fromisoformat(stamp[:10]).toordinal()
