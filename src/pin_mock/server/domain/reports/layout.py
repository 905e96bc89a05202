"""What a person reads in a report file: titles, units, percentages, wording and notes.

The CSV and the PDF both print what this module says, so they agree with each
other; the JSON download keeps the API's field names and numbers (shares as
fractions, as the analytics endpoints give them). Nothing here computes a
number: every figure comes from the document (``documents``), which equals the
analytics endpoints; this module only labels and formats it.

Percentages are the API's fractions times 100, rounded to two decimals, so
``0.3173`` is printed ``31.73%``: nothing is lost. Pain scores are on the
0-10 numeric rating scale (NRS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TITLES = {
    "patient_summary": "Patient summary",
    "outcomes": "Patient outcomes",
    "population_health": "Population health",
}
NRS = "NRS 0-10"
SYNTHETIC = "pin-mock sandbox: synthetic data, not for clinical use"
INTERVALS = {
    "month": "Monthly (months start on the 1st)",
    "week": "Weekly (weeks start on Monday)",
}
PERIOD_TITLES = {"month": "Month starting", "week": "Week starting (Monday)"}
DATA_TYPES = {
    "pain_scores": "Pain score",
    "medications": "Medication",
    "vitals": "Vital sign",
    "diagnoses": "Diagnosis",
    "lab_results": "Lab result",
    "procedures": "Procedure",
}
GROUPS = {
    "gender": "Gender",
    "age_band": "Age band (years)",
    "diagnosis": "Diagnosis (ICD-10)",
    "medication": "Medication (RxNorm)",
}


@dataclass(frozen=True)
class Column:
    """One column of a table: the row's field, its title, how its cells read."""

    key: str
    title: str
    cell: Callable[[Any], Any] = lambda value: value


@dataclass(frozen=True)
class Table:
    """A titled table; ``rows`` are the document's records, read through ``columns``."""

    name: str  # stable: "trend", "medications", "groups", "entries"
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]

    def cells(self, row: dict[str, Any]) -> list[Any]:
        """The row's cells, formatted; None stays None (the renderer says how it shows)."""
        return [None if row.get(c.key) is None else c.cell(row[c.key]) for c in self.columns]


def percent_number(share: float | None) -> float | None:
    """``0.3173`` -> ``31.73`` (a cell under a "(%)" title)."""
    return None if share is None else round(share * 100, 2)


def percent(share: float | None) -> str:
    """``0.3173`` -> ``"31.73%"``; ``"n/a"`` when there is nothing to divide."""
    number = percent_number(share)
    return "n/a" if number is None else f"{number:g}%"


def date_range(document: dict[str, Any]) -> str:
    """The range the report covers: the parameters', or the data's own first and last day."""
    params, outcomes = document["parameters"], document["summary"]["outcomes"]
    start = params.get("start_date") or outcomes["start_date"]
    end = params.get("end_date") or outcomes["end_date"]
    if start is None and end is None:
        return "all dates (no pain scores recorded)"
    text = f"{start or 'the first record'} to {end or 'the last record'}"
    if not params.get("start_date") and not params.get("end_date"):
        text += " (all data: the first and last pain score)"
    return text


def interval(document: dict[str, Any]) -> str:
    return str(document["summary"]["outcomes"]["interval"])


def one_patient(document: dict[str, Any]) -> bool:
    """A report about one patient: a patient summary, or outcomes for one ``patient_id``."""
    return document["summary"]["outcomes"].get("patient_id") is not None


def about(document: dict[str, Any]) -> list[tuple[str, str]]:
    """What the report is: its kind, id, time, range, who and how the trend is grouped."""
    params, summary = document["parameters"], document["summary"]
    patient = summary.get("patient")
    if patient:
        who = f"{patient['name']} ({patient['id']})"
    else:
        who = params.get("patient_id") or "All patients"
    return [
        ("Report", TITLES[document["type"]]),
        ("Report ID", document["report_id"]),
        ("Generated at (UTC)", document["generated_at"]),
        ("Date range", date_range(document)),
        ("Patient", who),
        ("Trend interval", INTERVALS.get(interval(document), interval(document))),
        ("Data", SYNTHETIC),
    ]


def summary(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """The headline figures, with units, in the wording for one patient or for many."""
    data = document["summary"]
    pairs: list[tuple[str, Any]] = []
    patient = data.get("patient")
    if patient:
        pairs += [("Date of birth", patient["date_of_birth"]), ("Gender", patient["gender"])]
    population = data.get("population_health")
    if population:
        pairs += [
            ("Total patients", population["total_patients"]),
            (f"Mean latest pain score ({NRS})", population["mean_latest_pain_score"]),
            ("Patients in severe pain (latest score 7 or more)", _severe(population)),
        ]
    pairs += _one_patient_outcomes(data) if one_patient(document) else _outcomes(data)
    if population:
        pairs += [("Insight", line) for line in population.get("insights", [])]
    return pairs


def _severe(population: dict[str, Any]) -> str:
    return percent(population["severe_pain_share"])


def _outcomes(data: dict[str, Any]) -> list[tuple[str, Any]]:
    o = data["outcomes"]
    improvement = o["improvement"]
    return [
        ("Patients with pain scores in the range", o["patients"]),
        (f"Baseline mean pain score ({NRS})", o["baseline_mean_pain_score"]),
        (f"Latest mean pain score ({NRS})", o["latest_mean_pain_score"]),
        ("Change from baseline (NRS points)", o["change_from_baseline"]),
        (
            f"Patients improved by {improvement['threshold_percent']}% or more",
            f"{percent(improvement['share'])} ({improvement['patients_improved']} of "
            f"{improvement['patients_evaluated']} evaluated)",
        ),
    ]


def _one_patient_outcomes(data: dict[str, Any]) -> list[tuple[str, Any]]:
    o = data["outcomes"]
    improvement = o["improvement"]
    if improvement["patients_evaluated"] == 0:
        improved = "not evaluated (needs two or more scores and a first score above 0)"
    else:
        improved = "yes" if improvement["patients_improved"] else "no"
    return [
        ("Pain scores in the range", sum(p["count"] for p in o["trend"])),
        (f"First pain score in the range (baseline, {NRS})", o["baseline_mean_pain_score"]),
        (f"Last pain score in the range (latest, {NRS})", o["latest_mean_pain_score"]),
        ("Change from first to last (NRS points)", o["change_from_baseline"]),
        (f"Improved by {improvement['threshold_percent']}% or more", improved),
    ]


def notes(document: dict[str, Any]) -> list[str]:
    """How to read the figures: the scale, and why baseline and latest are not the trend's ends."""
    o = document["summary"]["outcomes"]
    period = interval(document)
    lines = [
        "Pain scores use the 0-10 numeric rating scale (NRS, LOINC 72514-3): "
        "0 is no pain, 10 the worst pain imaginable."
    ]
    if one_patient(document):
        lines.append(
            "Baseline and latest are this patient's first and last pain score in the date "
            f"range; each point of the trend is the mean of the scores recorded that {period}, "
            "so the trend's first and last points can differ from them."
        )
    else:
        lines.append(
            "Baseline and latest: each patient's first and last pain score in the date range, "
            f"averaged over the {o['patients']} patients with scores. Each point of the trend "
            f"is the mean of every score recorded that {period}, whoever it belongs to, so the "
            "trend's first and last points differ from the baseline and latest means."
        )
        threshold = o["improvement"]["threshold_percent"]
        lines.append(
            "Evaluated: patients with two or more scores in the range and a first score above "
            f"0. Improved: the last score is at least {threshold}% below the first."
        )
    if document["type"] == "patient_summary":
        lines.append(
            "Codes: LOINC for pain scores, vital signs and lab results; RxNorm for "
            "medications; ICD-10-CM for diagnoses; procedures name their own system."
        )
    return lines


def axis_titles(document: dict[str, Any]) -> tuple[str, str]:
    """The trend chart's (x, y) axis titles."""
    return PERIOD_TITLES.get(interval(document), "Period"), f"Mean pain score ({NRS})"


def tables(document: dict[str, Any]) -> list[Table]:
    """The tables of the report, in order: its rows, then (outcomes) the medications."""
    kind, rows = document["type"], document["rows"]
    if kind == "outcomes":
        found = [
            Table(
                "trend", f"Mean pain score per {interval(document)}", _trend_columns(document), rows
            ),
            Table(
                "medications",
                "Medications active in the range",
                (
                    Column("name", "Medication"),
                    Column("rxnorm_code", "RxNorm code"),
                    Column("patients", "Patients taking it"),
                ),
                document["summary"]["outcomes"]["medications"],
            ),
        ]
        return found
    if kind == "population_health":
        return [Table("groups", "Patients by group", POPULATION_COLUMNS, rows)]
    return [Table("entries", "Clinical data in the range", PATIENT_COLUMNS, rows)]


def _trend_columns(document: dict[str, Any]) -> tuple[Column, ...]:
    return (
        Column("period_start", PERIOD_TITLES.get(interval(document), "Period start")),
        Column("mean_pain_score", f"Mean pain score ({NRS})"),
        Column("count", "Pain scores recorded"),
    )


POPULATION_COLUMNS = (
    Column("group", "Group", lambda g: GROUPS.get(g, g)),
    Column("key", "Code"),
    Column("label", "Name"),
    Column("patients", "Patients"),
    Column("share", "Share of patients (%)", percent_number),
)
PATIENT_COLUMNS = (
    Column("recorded_at", "Recorded (UTC)", lambda t: str(t)[:16].replace("T", " ")),
    Column("data_type", "Type", lambda t: DATA_TYPES.get(t, t)),
    Column("code", "Code"),
    Column("name", "Name"),
    Column("value", "Value"),
    Column("unit", "Unit"),
    Column("details", "Details"),
    Column("entry_id", "Entry ID"),
)
