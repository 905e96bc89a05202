"""Report files for people: the CSV and the PDF say what a clinician needs, in words and units.

The PDFs are read back with pypdf's text extraction: each element (title,
range, summary with units, notes, axis titles, tables, medications, page
numbers) is looked for, and every number is the analytics endpoint's.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from pypdf import PdfReader

from harness import Sandbox
from pin_mock.server.domain.reports.pdf import text as pdf_number
from report_helpers import RANGE, analytics_outcomes, create, csv_parts, download, pdf_text


def number(cell: str) -> float | None:
    return float(cell) if cell else None


def test_outcomes_csv_has_range_summary_trend_and_medications(sandbox: Sandbox) -> None:
    report, response = download(sandbox, "outcomes", "csv", RANGE)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    parts = csv_parts(response.content)
    expected = analytics_outcomes(sandbox, RANGE)
    assert expected["trend"] and expected["medications"], "the seed has data in the range"

    about = parts["about"]
    assert about["Report"] == "Patient outcomes"
    assert about["Report ID"] == report["id"]
    assert about["Date range"] == "2024-03-01 to 2024-10-31"
    assert about["Patient"] == "All patients"
    assert about["Trend interval"].startswith("Monthly")

    summary = parts["summary"]
    assert int(summary["Patients with pain scores in the range"]) == expected["patients"]
    baseline = summary["Baseline mean pain score (NRS 0-10)"]
    assert number(baseline) == expected["baseline_mean_pain_score"]
    latest = summary["Latest mean pain score (NRS 0-10)"]
    assert number(latest) == expected["latest_mean_pain_score"]
    change = summary["Change from baseline (NRS points)"]
    assert number(change) == expected["change_from_baseline"]
    improvement = expected["improvement"]
    assert summary["Patients improved by 30% or more"] == (
        f"{round(improvement['share'] * 100, 2):g}% ({improvement['patients_improved']} of "
        f"{improvement['patients_evaluated']} evaluated)"
    )
    assert any(note.startswith("Baseline and latest") for note in parts["notes"])

    trend = parts["tables"]["Mean pain score per month"]
    assert [
        (
            r["Month starting"],
            number(r["Mean pain score (NRS 0-10)"]),
            int(r["Pain scores recorded"]),
        )
        for r in trend
    ] == [(p["period_start"], p["mean_pain_score"], p["count"]) for p in expected["trend"]]
    medications = parts["tables"]["Medications active in the range"]
    assert [
        (r["Medication"], r["RxNorm code"], int(r["Patients taking it"])) for r in medications
    ] == [(m["name"], m["rxnorm_code"] or "", m["patients"]) for m in expected["medications"]]


def test_weekly_reports_follow_the_weekly_trend(sandbox: Sandbox) -> None:
    params = {**RANGE, "interval": "week"}
    _, response = download(sandbox, "outcomes", "json", params)
    expected = analytics_outcomes(sandbox, params)
    assert expected["interval"] == "week"
    assert response.json()["summary"]["outcomes"] == expected
    assert response.json()["parameters"] == params

    _, response = download(sandbox, "outcomes", "csv", params)
    parts = csv_parts(response.content)
    assert parts["about"]["Trend interval"] == "Weekly (weeks start on Monday)"
    weeks = parts["tables"]["Mean pain score per week"]
    assert [r["Week starting (Monday)"] for r in weeks] == [
        p["period_start"] for p in expected["trend"]
    ]

    _, response = download(sandbox, "outcomes", "pdf", params)
    words = " ".join(pdf_text(response.content))
    assert "Week starting (Monday)" in words and "mean per week" in words


@pytest.mark.parametrize("interval", ["day", "year", "", "Month"])
def test_other_intervals_are_refused(sandbox: Sandbox, interval: str) -> None:
    response = create(sandbox, "outcomes", "csv", {"interval": interval})
    assert response.status_code == 400
    assert "interval" in response.text


def test_outcomes_pdf_has_every_element(sandbox: Sandbox) -> None:
    report, response = download(sandbox, "outcomes", "pdf", RANGE)
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    pages = pdf_text(response.content)
    words = " ".join(pages)
    expected = analytics_outcomes(sandbox, RANGE)
    improvement = expected["improvement"]
    for needle in (
        "PIN report: Patient outcomes",
        f"Report ID: {report['id']}",
        "Date range: 2024-03-01 to 2024-10-31",
        "Patient: All patients",
        "Trend interval: Monthly",
        "synthetic data",
        "Summary",
        f"Patients with pain scores in the range: {expected['patients']}",
        "Baseline mean pain score (NRS 0-10): " + pdf_number(expected["baseline_mean_pain_score"]),
        f"Latest mean pain score (NRS 0-10): {pdf_number(expected['latest_mean_pain_score'])}",
        f"Change from baseline (NRS points): {pdf_number(expected['change_from_baseline'])}",
        f"Patients improved by 30% or more: {round(improvement['share'] * 100, 2):g}%",
        "0-10 numeric rating scale",
        "Baseline and latest: each patient's first and last pain score",
        "Pain-score trend (mean per month)",
        "Mean pain score (NRS 0-10)",  # the chart's y axis title (and the table's)
        "Month starting",  # the x axis title (and the table's)
        "Pain scores recorded",
        f"Medications active in the range ({len(expected['medications'])} rows)",
        "Patients taking it",
    ):
        assert needle in words, needle
    for period in expected["trend"]:  # in the chart's labels and the table
        assert period["period_start"][:7] in words
        assert period["period_start"] in words
        if period["mean_pain_score"] is not None:
            assert pdf_number(period["mean_pain_score"]) in words
    for medication in expected["medications"]:
        assert f"{medication['name']} {medication['rxnorm_code']} {medication['patients']}" in words
    for n, page in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in page
    assert "period_start" not in words and "mean_pain_score" not in words  # no raw names
    content = PdfReader(io.BytesIO(response.content)).pages[0].get_contents().get_data()
    assert b" re" in content and b" l" in content, "the chart is drawn with paths"


def test_population_pdf_and_csv_show_shares_as_percentages(sandbox: Sandbox) -> None:
    population = sandbox.get("/v1/analytics/population-health").json()
    _, response = download(sandbox, "population_health", "csv")
    parts = csv_parts(response.content)
    severe = round(population["severe_pain_share"] * 100, 2)
    assert parts["summary"]["Patients in severe pain (latest score 7 or more)"] == f"{severe:g}%"
    groups = parts["tables"]["Patients by group"]
    genders = {
        r["Code"]: (int(r["Patients"]), float(r["Share of patients (%)"]))
        for r in groups
        if r["Group"] == "Gender"
    }
    total = population["total_patients"]
    assert genders == {
        g: (n, round(round(n / total, 4) * 100, 2)) for g, n in population["by_gender"].items()
    }
    diagnoses = [
        (r["Code"], float(r["Share of patients (%)"]))
        for r in groups
        if r["Group"] == "Diagnosis (ICD-10)"
    ]
    assert diagnoses == [
        (d["icd10_code"], round(d["prevalence"] * 100, 2)) for d in population["top_diagnoses"]
    ]

    _, response = download(sandbox, "population_health", "pdf")
    words = " ".join(pdf_text(response.content))
    assert f"Patients in severe pain (latest score 7 or more): {severe:g}%" in words
    assert "Share of patients" in words and "Age band (years)" in words
    assert f"Total patients: {total}" in words


def test_patient_summary_speaks_of_one_patient(sandbox: Sandbox) -> None:
    params = {"patient_id": "patient_123", **RANGE}
    expected = analytics_outcomes(sandbox, params)
    assert expected["patients"] == 1
    for fmt in ("csv", "pdf"):
        _, response = download(sandbox, "patient_summary", fmt, params)
        if fmt == "csv":
            parts = csv_parts(response.content)
            labels = " ".join([*parts["summary"], *parts["notes"]])
            assert parts["about"]["Patient"] == "John Doe (patient_123)"
            first = parts["summary"]["First pain score in the range (baseline, NRS 0-10)"]
            assert number(first) == expected["baseline_mean_pain_score"]
        else:
            labels = " ".join(pdf_text(response.content))
            assert "Patient: John Doe (patient_123)" in labels
        assert "Pain scores in the range" in labels
        assert "Last pain score in the range (latest, NRS 0-10)" in labels
        assert "this patient's first and last pain score" in labels
        assert "Patients with pain scores" not in labels  # no population wording
        assert "mean pain score" not in labels.replace("Mean pain score", "")


def test_fpdf2_is_imported_only_to_render_a_pdf() -> None:
    # A fresh interpreter: this test process may have rendered a PDF already.
    code = (
        "import sys\n"
        "import pin_mock.server.domain.reports\n"
        "from pin_mock.server.domain.reports.files import render\n"
        "assert 'fpdf' not in sys.modules, 'imported with the reports package'\n"
        "outcomes = {'start_date': None, 'end_date': None, 'interval': 'month',\n"
        "    'patient_id': None, 'patients': 0, 'trend': [], 'baseline_mean_pain_score': None,\n"
        "    'latest_mean_pain_score': None, 'change_from_baseline': None, 'medications': [],\n"
        "    'improvement': {'threshold_percent': 30, 'patients_evaluated': 0,\n"
        "    'patients_improved': 0, 'share': None}}\n"
        "document = {'report_id': 'rpt_x', 'type': 'outcomes', 'generated_at': 'now',\n"
        "    'parameters': {}, 'summary': {'outcomes': outcomes}, 'rows': []}\n"
        "assert b'no pain scores recorded' in render('csv', document)\n"
        "assert 'fpdf' not in sys.modules, 'imported to render a CSV'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
