"""Plain-language observations on the population, each derived from its numbers.

They are the ``insights`` of ``GET /v1/analytics/population-health``: no
sentence states anything the numbers beside it do not show.
"""

from __future__ import annotations

from typing import Any

from pin_mock.server.domain.analytics.rounding import number, percent


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
            f"{number(population['mean_latest_pain_score'])} on the 0-10 scale, and "
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


def _percent(share: float | None) -> str:
    # The shares the numbers beside the sentence hold (4 decimals), read as percentages.
    return percent(round(share or 0, 4))
