"""The PDF rendering of a report's document with fpdf2 (imported only to render a PDF).

One A4 document: a title, the parameters, the headline numbers, a chart of the
pain-score trend drawn with fpdf2's primitives (axes, grid, line, points and
their values) and a table with the same rows as the CSV download. Core fonts
only (Helvetica), so text is Latin-1: anything else is replaced by ``?``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

#: Rows beyond this are left to the CSV and JSON downloads.
MAX_TABLE_ROWS = 500
LINE_COLOUR = (31, 119, 180)
COLUMN_WIDTHS = {
    "outcomes": (2, 2, 1),
    "population_health": (2, 2, 5, 1.2, 1.2),
    "patient_summary": (2.6, 3, 2, 1.6, 4, 1.8, 1, 3),
}


def text(value: Any) -> str:
    """Printable Latin-1 text for a value (``n/a`` for null)."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.2e}"
    return str(value).encode("latin-1", "replace").decode("latin-1")


def render_pdf(document: dict[str, Any], title: str, columns: tuple[str, ...]) -> bytes:
    """The PDF file of ``document``."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"PIN report: {title}")
    pdf.set_author("pin-mock sandbox")
    pdf.set_creator("pin-mock (fpdf2)")
    pdf.set_creation_date(datetime.fromisoformat(document["generated_at"].replace("Z", "+00:00")))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, text(f"PIN report: {title}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0,
        5,
        text(
            f"Report {document['report_id']} - generated {document['generated_at']} "
            "- pin-mock sandbox, synthetic data"
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    params = document["parameters"]
    _heading(pdf, "Parameters")
    _pairs(
        pdf,
        [
            ("Start date", params.get("start_date") or "earliest data"),
            ("End date", params.get("end_date") or "latest data"),
            ("Patient", params.get("patient_id") or "all patients"),
            ("Trend interval", document["summary"]["outcomes"]["interval"]),
        ],
    )

    _heading(pdf, "Summary")
    _pairs(pdf, headline(document))

    outcomes = document["summary"]["outcomes"]
    _heading(pdf, f"Pain-score trend (mean NRS 0-10 per {outcomes['interval']})")
    if pdf.will_page_break(70):
        pdf.add_page()
    top = pdf.get_y() + 2
    monthly = outcomes["interval"] == "month"
    chart(pdf, outcomes["trend"], monthly, x=pdf.l_margin + 8, y=top, w=pdf.epw - 10, h=55)
    pdf.set_y(top + 66)

    rows = document["rows"]
    _heading(pdf, f"Rows ({len(rows)})")
    table(pdf, rows, columns, COLUMN_WIDTHS.get(document["type"]))
    return bytes(pdf.output())


def headline(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """The summary numbers printed under "Summary"."""
    summary = document["summary"]
    pairs: list[tuple[str, Any]] = []
    patient = summary.get("patient")
    if patient:
        pairs += [
            ("Patient", f"{patient['name']} ({patient['id']})"),
            ("Date of birth", patient["date_of_birth"]),
            ("Gender", patient["gender"]),
        ]
    population = summary.get("population_health")
    if population:
        pairs += [
            ("Total patients", population["total_patients"]),
            ("Mean latest pain score", population["mean_latest_pain_score"]),
            ("Severe pain share (latest score >= 7)", population["severe_pain_share"]),
        ]
    o = summary["outcomes"]
    improvement = o["improvement"]
    pairs += [
        ("Patients with pain scores", o["patients"]),
        ("Baseline mean pain score", o["baseline_mean_pain_score"]),
        ("Latest mean pain score", o["latest_mean_pain_score"]),
        ("Change from baseline", o["change_from_baseline"]),
        (
            f"Improved by >= {improvement['threshold_percent']}%",
            f"{improvement['patients_improved']} of {improvement['patients_evaluated']} "
            f"(share {text(improvement['share'])})",
        ),
    ]
    if population:
        pairs += [("Insight", line) for line in population.get("insights", [])]
    return pairs


def chart(
    pdf: FPDF, trend: list[dict[str, Any]], monthly: bool, *, x: float, y: float, w: float, h: float
) -> None:
    """A line chart of ``mean_pain_score`` per period on a 0-10 axis."""
    pdf.set_font("Helvetica", "", 7)
    pdf.set_text_color(0)
    for score in range(0, 11, 2):
        level = y + h - score / 10 * h
        pdf.set_draw_color(225)
        pdf.set_line_width(0.1)
        pdf.line(x, level, x + w, level)
        pdf.text(x - 4, level + 1, str(score))
    pdf.set_draw_color(0)
    pdf.set_line_width(0.3)
    pdf.line(x, y, x, y + h)
    pdf.line(x, y + h, x + w, y + h)
    if not trend:
        pdf.text(x + w / 2 - 18, y + h / 2, "No pain scores in the range")
        return
    step = w / len(trend)
    every = max(1, -(-len(trend) // 12))  # at most ~12 axis labels
    points: list[tuple[float, float] | None] = []
    for i, period in enumerate(trend):
        px = x + step * (i + 0.5)
        if i % every == 0:
            label = period["period_start"][:7] if monthly else period["period_start"][5:]
            pdf.text(px - 5, y + h + 4, label)
        mean = period["mean_pain_score"]
        points.append(None if mean is None else (px, y + h - mean / 10 * h))
    pdf.set_draw_color(*LINE_COLOUR)
    pdf.set_fill_color(*LINE_COLOUR)
    pdf.set_line_width(0.6)
    segment: list[tuple[float, float]] = []
    for point in [*points, None]:  # a gap (no scores in a period) breaks the line
        if point is not None:
            segment.append(point)
            continue
        if len(segment) > 1:
            pdf.polyline(segment)
        segment = []
    show_values = len(trend) <= 24
    for period, point in zip(trend, points, strict=True):
        if point is None:
            continue
        pdf.circle(point[0], point[1], 0.9, style="F")
        if show_values:
            pdf.text(point[0] - 2.5, point[1] - 2, text(period["mean_pain_score"]))
    pdf.set_draw_color(0)
    pdf.set_fill_color(255)
    pdf.set_line_width(0.2)


def table(
    pdf: FPDF,
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
    widths: tuple[float, ...] | None,
) -> None:
    """The rows as a table (the CSV's columns), at most ``MAX_TABLE_ROWS``."""
    if not rows:
        pdf.set_font("Helvetica", "I", 9)
        pdf.cell(0, 6, "No records for these parameters.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    pdf.set_font("Helvetica", "", 6.5 if len(columns) > 5 else 8)
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        line_height=pdf.font_size * 1.6,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
        cell_fill_color=(245, 245, 245),
        cell_fill_mode="ROWS",
        repeat_headings=1,
    ) as grid:
        grid.row([text(c) for c in columns])
        for row in rows[:MAX_TABLE_ROWS]:
            grid.row([text("" if row.get(c) is None else row[c]) for c in columns])
    if len(rows) > MAX_TABLE_ROWS:
        pdf.set_font("Helvetica", "I", 8)
        pdf.cell(
            0,
            6,
            f"{len(rows) - MAX_TABLE_ROWS} more rows in the CSV and JSON downloads.",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def _heading(pdf: FPDF, label: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, text(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _pairs(pdf: FPDF, pairs: list[tuple[str, Any]]) -> None:
    pdf.set_font("Helvetica", "", 9)
    for label, value in pairs:
        pdf.set_font(style="B")
        pdf.cell(70, 5, text(label) + ":")
        pdf.set_font(style="")
        pdf.multi_cell(0, 5, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
