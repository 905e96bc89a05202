"""Report files: CSV and PDF renderings, and fpdf2 loaded only to render a PDF."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

from pypdf import PdfReader
from report_helpers import RANGE, analytics_outcomes, download

from harness import Sandbox
from pin_mock.server.reports.pdf import text as pdf_text


def test_outcomes_csv_has_a_header_and_one_row_per_period(sandbox: Sandbox) -> None:
    _, response = download(sandbox, "outcomes", "csv", RANGE)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    expected = analytics_outcomes(sandbox, RANGE)["trend"]
    assert expected, "the seeded data has pain scores in the range"
    assert [
        {
            "period_start": r["period_start"],
            "mean_pain_score": float(r["mean_pain_score"]) if r["mean_pain_score"] else None,
            "count": int(r["count"]),
        }
        for r in rows
    ] == expected


def test_outcomes_pdf_shows_title_parameters_numbers_table_and_chart(sandbox: Sandbox) -> None:
    report, response = download(sandbox, "outcomes", "pdf", RANGE)
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    pdf = PdfReader(io.BytesIO(response.content))
    words = " ".join(page.extract_text() for page in pdf.pages)
    expected = analytics_outcomes(sandbox, RANGE)
    for needle in (
        "PIN report: Patient outcomes",
        report["id"],
        "Parameters",
        RANGE["start_date"],
        RANGE["end_date"],
        "Pain-score trend",
        f"Baseline mean pain score: {pdf_text(expected['baseline_mean_pain_score'])}",
        f"Latest mean pain score: {pdf_text(expected['latest_mean_pain_score'])}",
        f"Change from baseline: {pdf_text(expected['change_from_baseline'])}",
    ):
        assert needle in words, needle
    for period in expected["trend"]:  # in the chart's labels and the table
        assert period["period_start"] in words
        if period["mean_pain_score"] is not None:
            assert pdf_text(period["mean_pain_score"]) in words
    content = pdf.pages[0].get_contents().get_data()
    assert b" re" in content and b" l" in content, "the chart is drawn with paths"


def test_fpdf2_is_imported_only_to_render_a_pdf() -> None:
    # A fresh interpreter: this test process may have rendered a PDF already.
    code = (
        "import sys\n"
        "import pin_mock.server.reports\n"
        "from pin_mock.server.reports.files import render\n"
        "assert 'fpdf' not in sys.modules, 'imported with the reports package'\n"
        "document = {'type': 'outcomes', 'rows': [{'period_start': '2024-01-01', 'count': 0}]}\n"
        "render('csv', document)\n"
        "assert 'fpdf' not in sys.modules, 'imported to render a CSV'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
