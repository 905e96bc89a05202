"""What the CSV and PDF say (``reports.layout``): percentages, ranges and one-patient wording."""

from __future__ import annotations

from typing import Any

import pytest

from pin_mock.server.domain.reports import layout


def document(
    *,
    params: dict[str, Any] | None = None,
    patient_id: str | None = None,
    evaluated: int = 0,
    improved: int = 0,
    trend: list[dict[str, Any]] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> dict[str, Any]:
    outcomes = {
        "start_date": start,
        "end_date": end,
        "interval": "month",
        "patient_id": patient_id,
        "patients": 1 if trend else 0,
        "trend": trend or [],
        "baseline_mean_pain_score": 8 if trend else None,
        "latest_mean_pain_score": 4 if trend else None,
        "change_from_baseline": -4 if trend else None,
        "improvement": {
            "threshold_percent": 30,
            "patients_evaluated": evaluated,
            "patients_improved": improved,
            "share": improved / evaluated if evaluated else None,
        },
        "medications": [],
    }
    return {
        "report_id": "rpt_x",
        "type": "outcomes",
        "generated_at": "2024-07-01T09:00:00Z",
        "parameters": params or {},
        "summary": {"outcomes": outcomes},
        "rows": outcomes["trend"],
    }


@pytest.mark.parametrize(
    ("share", "shown"),
    [(0.3173, "31.73%"), (1.0, "100%"), (0.0, "0%"), (0.0001, "0.01%"), (None, "n/a")],
)
def test_shares_read_as_percentages_without_losing_digits(share: float | None, shown: str) -> None:
    assert layout.percent(share) == shown


def test_a_report_without_data_says_so() -> None:
    assert layout.date_range(document()) == "all dates (no pain scores recorded)"
    summary = dict(layout.summary(document()))
    assert summary["Patients improved by 30% or more"] == "n/a (0 of 0 evaluated)"


def test_the_range_is_the_parameters_or_the_datas_own() -> None:
    given = document(params={"start_date": "2024-01-01"}, start="2024-01-01", end="2024-05-31")
    assert layout.date_range(given) == "2024-01-01 to 2024-05-31"
    whole = document(start="2023-01-11", end="2024-12-31")
    assert layout.date_range(whole).startswith("2023-01-11 to 2024-12-31 (all data")


TREND = [
    {"period_start": "2024-01-01", "mean_pain_score": 8, "count": 1},
    {"period_start": "2024-02-01", "mean_pain_score": 4, "count": 1},
]


@pytest.mark.parametrize(
    ("evaluated", "improved", "said"),
    [(1, 1, "yes"), (1, 0, "no"), (0, 0, "not evaluated (needs two or more scores")],
)
def test_one_patient_is_yes_no_or_not_evaluated(evaluated: int, improved: int, said: str) -> None:
    one = document(patient_id="patient_123", evaluated=evaluated, improved=improved, trend=TREND)
    summary = dict(layout.summary(one))
    assert summary["Improved by 30% or more"].startswith(said)
    assert summary["Pain scores in the range"] == 2
    assert summary["First pain score in the range (baseline, NRS 0-10)"] == 8
    assert not any(label.startswith("Patients") for label in summary)
    assert any("this patient's first and last" in note for note in layout.notes(one))
