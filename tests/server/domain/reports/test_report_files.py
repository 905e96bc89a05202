"""Report files for their readers: the CSV is data, the PDF the printout, both in words and units.

Each file is read as its reader reads it: the CSV with ``csv.DictReader`` and
``pandas.read_csv`` (one table, one header row), the PDF with pypdf's text
extraction (each element looked for: title, range, summary with units, notes,
axis titles, tables, medications, page numbers). Every number is the
analytics endpoint's.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from pypdf import PdfReader

from harness import Sandbox
from pin_mock.server.domain.reports.pdf import text as pdf_number
from report_helpers import RANGE, analytics_outcomes, create, csv_table, download, pdf_text


def number(cell: str) -> float | None:
    return float(cell) if cell else None


def test_outcomes_csv_is_the_trend_as_one_table(sandbox: Sandbox) -> None:
    report, response = download(sandbox, "outcomes", "csv", RANGE)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = csv_table(response.content)
    expected = analytics_outcomes(sandbox, RANGE)
    assert expected["trend"], "the seed has data in the range"
    assert list(rows[0]) == ["From", "To", "Mean pain score (NRS 0-10)", "Pain scores recorded"]
    assert [
        (r["From"], number(r["Mean pain score (NRS 0-10)"]), int(r["Pain scores recorded"]))
        for r in rows
    ] == [(p["period_start"], p["mean_pain_score"], p["count"]) for p in expected["trend"]]
    # Each period by its days inside the range: March is 03-01 to 03-31, October ends 10-31.
    assert (rows[0]["From"], rows[0]["To"]) == ("2024-03-01", "2024-03-31")
    assert rows[-1]["To"] == "2024-10-31"
    # The summary and the medications are in the JSON (and the PDF) of the same report.
    _, as_json = download(sandbox, "outcomes", "json", RANGE)
    assert as_json.json()["summary"]["outcomes"] == expected


def test_weekly_reports_follow_the_weekly_trend(sandbox: Sandbox) -> None:
    params = {**RANGE, "interval": "week"}
    _, response = download(sandbox, "outcomes", "json", params)
    expected = analytics_outcomes(sandbox, params)
    assert expected["interval"] == "week"
    assert response.json()["summary"]["outcomes"] == expected
    assert response.json()["parameters"] == params

    _, response = download(sandbox, "outcomes", "csv", params)
    weeks = csv_table(response.content)
    assert [r["From"] for r in weeks][1:] == [p["period_start"] for p in expected["trend"]][1:]
    # The first week starts before March: it is shown from the range's first day.
    assert weeks[0]["From"] == "2024-03-01" and expected["trend"][0]["period_start"] < "2024-03-01"

    _, response = download(sandbox, "outcomes", "pdf", params)
    words = " ".join(pdf_text(response.content))
    assert "Week starting (Monday)" in words and "mean per week" in words
    assert "Trend interval: Weekly (weeks start on Monday)" in words


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
        "Month starting",  # the x axis title
        "From To",  # the table's period columns
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
    groups = csv_table(response.content)
    total = population["total_patients"]
    genders = {
        r["Name"]: (r["Code"], int(r["Patients"]), float(r["Share of patients (%)"]))
        for r in groups
        if r["Group"] == "Gender"
    }
    # Genders and age bands have no code: the name says it once ("Male", not "male / male").
    assert genders == {
        g.capitalize(): ("", n, round(round(n / total, 4) * 100, 2))
        for g, n in population["by_gender"].items()
    }
    assert all(r["Code"] == "" for r in groups if r["Group"] == "Age band (years)")
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
    severe = round(population["severe_pain_share"] * 100, 2)
    assert f"Patients in severe pain (latest score 7 or more): {severe:g}%" in words
    assert "Share of patients" in words and "Age band (years)" in words
    assert f"Total patients: {total}" in words
    assert "male male" not in words.lower()


def test_one_rounding_rule_for_the_same_number_everywhere(sandbox: Sandbox) -> None:
    population = sandbox.get("/v1/analytics/population-health").json()
    mean = population["mean_latest_pain_score"]
    severe = round(population["severe_pain_share"] * 100, 2)
    sentence = next(line for line in population["insights"] if "mean latest score" in line)
    assert f"is {mean:g} on the 0-10 scale" in sentence and f"{severe:g}% report" in sentence
    _, response = download(sandbox, "population_health", "pdf")
    words = " ".join(pdf_text(response.content)).replace("\n", " ")
    assert f"Mean latest pain score (NRS 0-10): {mean:g}" in words
    assert f"mean latest score is {mean:g} on" in words  # the insight line, the same digits


def test_patient_summary_speaks_of_one_patient(sandbox: Sandbox) -> None:
    params = {"patient_id": "patient_123", **RANGE}
    expected = analytics_outcomes(sandbox, params)
    assert expected["patients"] == 1
    _, response = download(sandbox, "patient_summary", "csv", params)
    entries = csv_table(response.content)
    assert {r["Type"] for r in entries} >= {"Pain score", "Vital sign"}
    assert all(
        RANGE["start_date"] <= r["Recorded (UTC)"][:10] <= RANGE["end_date"] for r in entries
    )
    for fmt in ("pdf",):
        _, response = download(sandbox, "patient_summary", fmt, params)
        labels = " ".join(pdf_text(response.content))
        assert "Patient: John Doe (patient_123)" in labels
        first = pdf_number(expected["baseline_mean_pain_score"])
        assert f"First pain score in the range (baseline, NRS 0-10): {first}" in labels
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
        "assert render('csv', document).startswith(b'From,To,')\n"
        "assert 'fpdf' not in sys.modules, 'imported to render a CSV'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
