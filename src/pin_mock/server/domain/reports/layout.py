"""What a person reads in a report file: titles, units, percentages, wording and notes.

The CSV and the PDF both print what this module says, so they agree with each
other; the JSON download keeps the API's field names and numbers (shares as
fractions, as the analytics endpoints give them). Nothing here computes a
number: every figure comes from the document (``documents``), which equals the
analytics endpoints; this module only labels and formats it.

Numbers follow one rounding rule (``analytics.rounding``): the API's own
numbers, never rounded again, so a figure reads the same in the summary, the
tables and the insight sentences; percentages are the API's fractions times
100 (``0.3173`` is ``31.73%``). Pain scores are on the 0-10 numeric rating
scale (NRS). Every row of a table lies in the date range the header states
(``bounds``): a trend period is shown by the days of it inside the range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pin_mock.server.domain.analytics.rounding import percent, percent_number  # noqa: F401 - re-exported

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
GENDERS = {"male": "Male", "female": "Female", "other": "Other", "unknown": "Unknown"}
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


def bounds(document: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first and last day the report covers: the parameters', else its data's own.

    A patient summary lists every entry of the patient, so without parameters its
    range is its first and last entry's day; the other reports are about pain
    scores, so their range is the first and last score's (the analytics' range).
    """
    params = document["parameters"]
    if document["type"] == "patient_summary":
        days = sorted(str(row["recorded_at"])[:10] for row in document["rows"])
        first, last = (days[0], days[-1]) if days else (None, None)
    else:
        outcomes = document["summary"]["outcomes"]
        first, last = outcomes["start_date"], outcomes["end_date"]
    return params.get("start_date") or first, params.get("end_date") or last


def date_range(document: dict[str, Any]) -> str:
    """The range the report covers, in words (``bounds``)."""
    params = document["parameters"]
    start, end = bounds(document)
    what = "record" if document["type"] == "patient_summary" else "pain score"
    if start is None and end is None:
        return f"all dates (no {what}s recorded)"
    if start is None or end is None:  # one end given, and no data inside the range
        given = f"from {start}" if start else f"up to {end}"
        return f"{given} (no {what}s recorded in it)"
    text = f"{start} to {end}"
    if not params.get("start_date") and not params.get("end_date"):
        text += f" (all data: the first and last {what})"
    return text


def period_end(period_start: str, unit: str) -> str:
    """The last day of the month or week (Monday to Sunday) that starts on ``period_start``."""
    first = date.fromisoformat(period_start)
    if unit == "week":
        return (first + timedelta(days=6)).isoformat()
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (following - timedelta(days=1)).isoformat()


def trend_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The trend's periods, each with the days of it inside the report's range (``from``, ``to``)."""
    start, end = bounds(document)
    unit = interval(document)
    rows = []
    for period in document["summary"]["outcomes"]["trend"]:
        first, last = period["period_start"], period_end(period["period_start"], unit)
        rows.append(
            {
                **period,
                "from": max(first, start) if start else first,
                "to": min(last, end) if end else last,
            }
        )
    return rows


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
        gender = GENDERS.get(patient["gender"], patient["gender"])
        pairs += [("Date of birth", patient["date_of_birth"]), ("Gender", gender)]
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
    """The tables of the report, in order: its main one, then (outcomes) the medications.

    The first is the report's own table (its rows): the one table of the CSV file.
    """
    kind, rows = document["type"], document["rows"]
    if kind == "outcomes":
        found = [
            Table(
                "trend",
                f"Mean pain score per {interval(document)}",
                TREND_COLUMNS,
                trend_rows(document),
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
        return [Table("groups", "Patients by group", POPULATION_COLUMNS, population_rows(document))]
    return [Table("entries", "Clinical data in the range", PATIENT_COLUMNS, rows)]


def main_table(document: dict[str, Any]) -> Table:
    """The report's own table: trend periods, groups of patients, or clinical entries."""
    return tables(document)[0]


TREND_COLUMNS = (
    Column("from", "From"),
    Column("to", "To"),
    Column("mean_pain_score", f"Mean pain score ({NRS})"),
    Column("count", "Pain scores recorded"),
)


def _population_cells(row: dict[str, Any]) -> dict[str, Any]:
    """A group's row as a person reads it: a code only where there is one, a name always."""
    if row["group"] == "gender":
        return {**row, "key": "", "label": GENDERS.get(row["label"], row["label"])}
    if row["group"] == "age_band":
        return {**row, "key": ""}
    return row


def population_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [_population_cells(row) for row in document["rows"]]


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
