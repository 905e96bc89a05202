"""Counting medications by patients, for both the outcomes and the population.

A medication is keyed by its RxNorm code, or by its name when there is none;
a patient counts once per distinct key however many orders it has. Counts
are signed so that a client's view can take a seeded patient out (-1) and put
its edited version in (+1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pin_mock.server.domain.seed.history import MedicationSpan


def count_medications(
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


def medication_counts(
    counts: Counter[str], names: dict[str, tuple[str, str | None]], limit: int | None
) -> list[dict[str, Any]]:
    """The counted medications, most patients first (then by name), at most ``limit``."""
    ranked = sorted(
        ((key, n) for key, n in counts.items() if n > 0), key=lambda x: (-x[1], names[x[0]][0])
    )
    return [
        {"name": names[key][0], "rxnorm_code": names[key][1], "patients": n}
        for key, n in ranked[:limit]
    ]


def _medication_key(med: MedicationSpan) -> str:
    return med.rxnorm_code or f"name:{med.name.strip().lower()}"
