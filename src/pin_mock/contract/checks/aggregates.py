"""Aggregates add up: the parts of an analytics answer agree with its total.

Population health counts each patient once by gender and once by age band,
so each breakdown sums to ``total_patients``; a diagnosis's ``prevalence`` is
its patients over the total; a share is a fraction. Outcomes' improvement
share is the improved over the evaluated, and no part exceeds its whole.
Shares are compared at the precision they are written in (four decimals).
"""

from __future__ import annotations

from typing import Any

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown

#: Shares are written with four decimals: a rounded share may be off by half a unit of that.
SLACK = 0.00051


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _share_of(part: Any, whole: Any, share: Any, what: str) -> None:
    part, whole, share = _int(part), _int(whole), _number(share)
    if part is None or whole is None or share is None:
        return
    if part > whole:
        fail(f"{what}: {part} is more than its whole, {whole}")
    expected = part / whole if whole else 0.0
    if abs(share - expected) > SLACK:
        fail(f"{what}: share {share} is not {part}/{whole} ({expected:.4f})")


@check("pin_aggregate_totals", operations=("getPopulationHealth", "getOutcomes"))
def aggregate_totals(ex: Exchange, spec: Any) -> None:
    """Breakdowns sum to their total; shares are their parts over their wholes."""
    body = ex.json()
    if ex.status != 200 or not isinstance(body, dict):
        return
    if "total_patients" in body:
        _population(body)
    improvement = body.get("improvement")
    if isinstance(improvement, dict):
        evaluated, patients = improvement.get("patients_evaluated"), body.get("patients")
        if _int(evaluated) is not None and _int(patients) is not None and evaluated > patients:
            fail(f"improvement: {evaluated} patients evaluated of {patients}")
        _share_of(
            improvement.get("patients_improved"), evaluated, improvement.get("share"), "improvement"
        )


def _population(body: dict[str, Any]) -> None:
    total = _int(body.get("total_patients"))
    if total is None:
        return
    genders = body.get("by_gender")
    if isinstance(genders, dict) and all(_int(v) is not None for v in genders.values()):
        if sum(genders.values()) != total:
            fail(
                f"by_gender {shown(genders)} sums to {sum(genders.values())}, not total_patients {total}"
            )
    bands = body.get("by_age_band")
    if isinstance(bands, list) and all(
        isinstance(b, dict) and _int(b.get("patients")) is not None for b in bands
    ):
        counted = sum(b["patients"] for b in bands)
        if counted != total:
            fail(f"by_age_band sums to {counted}, not total_patients {total}")
    for item in body.get("top_diagnoses") or []:
        if isinstance(item, dict):
            _share_of(
                item.get("patients"),
                total,
                item.get("prevalence"),
                f"diagnosis {item.get('icd10_code')}",
            )
    for item in body.get("top_medications") or []:
        if (
            isinstance(item, dict)
            and _int(item.get("patients")) is not None
            and item["patients"] > total
        ):
            fail(f"medication {shown(item.get('name'))}: {item['patients']} patients of {total}")
    severe = _number(body.get("severe_pain_share"))
    if severe is not None and not 0 <= severe <= 1:
        fail(f"severe_pain_share {severe} is not a share")
