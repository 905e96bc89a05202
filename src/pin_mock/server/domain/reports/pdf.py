"""The PDF rendering of a report's document with fpdf2 (imported only to render a PDF).

One A4 document, in the order a reader needs it: the title; what the report is
(range, patient, interval); the summary figures with units and the notes on
reading them; the pain-score trend as a chart drawn with fpdf2's primitives
(axes with titles, grid, line, points and their values); then the tables of
``layout.tables`` with human column titles (outcomes: the trend and the
medications). Every page's footer has the report id and "Page n of N". The
words and numbers are ``layout``'s, as in the CSV. Core fonts only
(Helvetica), so text is Latin-1: anything else is replaced by ``?``.

No near-empty last page: a layout whose last page would hold only a few
leftover rows (content ending above ``NEAR_EMPTY`` of the page) is laid out
again, tighter (``STYLES``), and if that is not enough, the last table's final
rows move to the last page together (``keep_last``), so it never holds a stub.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from pin_mock.server.domain.reports import layout


@dataclass(frozen=True)
class Style:
    """How loosely a report is laid out."""

    chart_height: float = 55.0
    #: A table row's line height, times the font size.
    line_height: float = 1.6
    #: Rows of the last table kept together on the last page (0: wherever they fall).
    keep_last: int = 0


STYLES = (Style(), Style(chart_height=42.0, line_height=1.3))
#: A last page whose content ends above this share of the page height is near-empty.
NEAR_EMPTY = 0.3
#: How many final rows may move to the last page together, tried in turn.
KEEP_LAST = (12, 20, 30, 45)
#: Rows beyond this are left to the CSV and JSON downloads.
MAX_TABLE_ROWS = 500
LINE_COLOUR = (31, 119, 180)
#: Relative column widths per table (``layout.Table.name``).
COLUMN_WIDTHS = {
    "trend": (1.6, 1.6, 2, 1.6),
    "medications": (4, 1.4, 1.6),
    "groups": (1.9, 1.2, 4, 1, 1.4),
    "entries": (1.9, 1.3, 1.1, 3, 1.4, 0.9, 3, 2.2),
}


def text(value: Any) -> str:
    """Printable Latin-1 text for a value (``n/a`` for null)."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = f"{value:g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.2e}"
    return str(value).encode("latin-1", "replace").decode("latin-1")


class _ReportPDF(FPDF):
    """A4 with a footer on every page: what this is, and the page number."""

    def __init__(self, report_id: str) -> None:
        super().__init__(format="A4")
        self.report_id = report_id

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90)
        self.cell(0, 5, text(f"PIN report {self.report_id} - {layout.SYNTHETIC}"), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def render_pdf(document: dict[str, Any]) -> bytes:
    """The PDF file of ``document``, laid out so that no last page is near-empty."""
    pdf = _render(document, STYLES[0])
    if near_empty(pdf):
        pdf = _render(document, STYLES[1])
    for keep in KEEP_LAST:
        if not near_empty(pdf):
            break
        pdf = _render(document, replace(STYLES[1], keep_last=keep))
    return bytes(pdf.output())


def near_empty(pdf: FPDF) -> bool:
    """More than one page, and the last one's content ends above ``NEAR_EMPTY`` of it."""
    return pdf.page > 1 and pdf.get_y() < NEAR_EMPTY * pdf.h


def _render(document: dict[str, Any], style: Style) -> FPDF:
    title = layout.TITLES[document["type"]]
    pdf = _ReportPDF(document["report_id"])
    pdf.set_title(f"PIN report: {title}")
    pdf.set_author("pin-mock sandbox")
    pdf.set_creator("pin-mock (fpdf2)")
    pdf.set_creation_date(datetime.fromisoformat(document["generated_at"].replace("Z", "+00:00")))
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, text(f"PIN report: {title}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _pairs(pdf, layout.about(document)[1:])  # [0] is the title above

    _heading(pdf, "Summary")
    _pairs(pdf, layout.summary(document))
    pdf.ln(1)
    pdf.set_font("Helvetica", "I", 8)
    for line in layout.notes(document):
        pdf.multi_cell(0, 4, text(line), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    outcomes = document["summary"]["outcomes"]
    _heading(pdf, f"Pain-score trend (mean per {outcomes['interval']})")
    if pdf.will_page_break(style.chart_height + 21):
        pdf.add_page()
    top = pdf.get_y() + 2
    x_title, y_title = layout.axis_titles(document)
    chart(
        pdf,
        outcomes["trend"],
        outcomes["interval"] == "month",
        x=pdf.l_margin + 14,
        y=top,
        w=pdf.epw - 16,
        h=style.chart_height,
        titles=(x_title, y_title),
    )
    pdf.set_y(top + style.chart_height + 17)

    found_tables = layout.tables(document)
    for number, found in enumerate(found_tables, 1):
        keep = style.keep_last if number == len(found_tables) else 0
        if keep >= len(found.rows[:MAX_TABLE_ROWS]) > 0:
            pdf.add_page()  # the whole last table moves, with its heading
        _heading(pdf, f"{found.title} ({len(found.rows)} rows)")
        table(pdf, found, line_height=style.line_height, keep_last=keep)
    return pdf


def chart(
    pdf: FPDF,
    trend: list[dict[str, Any]],
    monthly: bool,
    *,
    x: float,
    y: float,
    w: float,
    h: float,
    titles: tuple[str, str],
) -> None:
    """A line chart of ``mean_pain_score`` per period on a 0-10 axis, with axis titles."""
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
    x_title, y_title = titles
    pdf.set_font("Helvetica", "B", 8)
    with pdf.rotation(90, x - 9, y + h / 2):
        pdf.text(x - 9 - pdf.get_string_width(y_title) / 2, y + h / 2, y_title)
    pdf.text(x + w / 2 - pdf.get_string_width(x_title) / 2, y + h + 10, x_title)
    pdf.set_font("Helvetica", "", 7)
    if not trend:
        pdf.text(x + w / 2 - 18, y + h / 2, "No pain scores in the range")
        return
    step = w / len(trend)
    every = max(1, -(-len(trend) // 12))  # at most ~12 axis labels
    points: list[tuple[float, float] | None] = []
    for i, period in enumerate(trend):
        px = x + step * (i + 0.5)
        if i % every == 0:
            label = _period_label(period["period_start"], monthly)
            pdf.text(px - pdf.get_string_width(label) / 2, y + h + 4, label)
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


def _period_label(period_start: str, monthly: bool) -> str:
    """``2024-03`` for a month; ``4 Mar`` for a week (never the ambiguous ``03-04``)."""
    if monthly:
        return period_start[:7]
    day = date.fromisoformat(period_start)
    return f"{day.day} {day.strftime('%b')}"


def table(pdf: FPDF, found: layout.Table, *, line_height: float = 1.6, keep_last: int = 0) -> None:
    """A table of ``layout``'s (human titles), at most ``MAX_TABLE_ROWS`` rows.

    ``keep_last``: its final rows start a page of their own, headings repeated.
    """
    rows = found.rows[:MAX_TABLE_ROWS]
    if not rows:
        pdf.set_font("Helvetica", "I", 9)
        pdf.cell(0, 6, "No records for these parameters.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    parts = [rows]
    if 0 < keep_last < len(rows):
        parts = [rows[:-keep_last], rows[-keep_last:]]
    for number, part in enumerate(parts):
        if number:
            pdf.add_page()
        _grid(pdf, found, part, line_height)
    if len(found.rows) > MAX_TABLE_ROWS:
        pdf.set_font("Helvetica", "I", 8)
        pdf.cell(
            0,
            6,
            f"{len(found.rows) - MAX_TABLE_ROWS} more rows in the CSV and JSON downloads.",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def _grid(pdf: FPDF, found: layout.Table, rows: list[dict[str, Any]], line_height: float) -> None:
    pdf.set_font("Helvetica", "", 6.5 if len(found.columns) > 5 else 8)
    with pdf.table(
        col_widths=COLUMN_WIDTHS.get(found.name),
        text_align="LEFT",
        line_height=pdf.font_size * line_height,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
        cell_fill_color=(245, 245, 245),
        cell_fill_mode="ROWS",
        repeat_headings=1,
    ) as grid:
        grid.row([text(c.title) for c in found.columns])
        for row in rows:
            grid.row(["" if v is None else text(v) for v in found.cells(row)])


def _heading(pdf: FPDF, label: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, text(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _pairs(pdf: FPDF, pairs: list[tuple[str, Any]]) -> None:
    """Label: value lines; the label column is as wide as the longest label."""
    pdf.set_font("Helvetica", "B", 9)
    width = min(100.0, max((pdf.get_string_width(text(k) + ":") for k, _ in pairs), default=0) + 3)
    for label, value in pairs:
        pdf.set_font(style="B")
        pdf.cell(width, 5, text(label) + ":")
        pdf.set_font(style="")
        pdf.multi_cell(0, 5, text(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
