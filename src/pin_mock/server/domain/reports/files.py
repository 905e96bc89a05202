"""The files of a report: JSON, CSV and PDF renderings of its document, and their names.

Every format renders the same ``ReportDocument`` (see ``documents``). The JSON
file is the document itself, with the API's field names and numbers. The CSV
and the PDF are for people and say the same things (``layout``): the CSV is
RFC 4180 in UTF-8 and reads as a spreadsheet, top to bottom:

1. what the report is (two columns: label, value): kind, id, time, date range,
   patient, trend interval;
2. ``Summary``: the headline figures with their units, then ``Note`` lines
   (how baseline and latest relate to the trend);
3. each table (``layout.tables``) under a title row: a header row of human
   titles, then one row per record (outcomes: the trend, then the medications).

Blank rows separate the parts. Cells a spreadsheet would run as a formula are
quoted. The PDF module (and fpdf2 with it) is imported only when a PDF is
rendered, so the sandbox starts without it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from pin_mock.server.domain.reports import layout

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


def render(fmt: str, document: dict[str, Any]) -> bytes:
    """The file of ``document`` in ``fmt``."""
    if fmt == "json":
        # A file for people to open, so indented; the API's answers use encoding.encode.
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)
    if fmt == "csv":
        return render_csv(document)
    from pin_mock.server.domain.reports.pdf import render_pdf  # fpdf2 is imported only when needed

    return render_pdf(document)


def render_csv(document: dict[str, Any]) -> bytes:
    """RFC 4180 CSV in UTF-8 (no BOM): about, summary and notes, then the tables."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for label, value in layout.about(document):
        writer.writerow([label, _cell(value)])
    writer.writerow([])
    writer.writerow(["Summary"])
    for label, value in layout.summary(document):
        writer.writerow([label, _cell(value)])
    for line in layout.notes(document):
        writer.writerow(["Note", _cell(line)])
    for table in layout.tables(document):
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([c.title for c in table.columns])
        for row in table.rows:
            writer.writerow([_cell(v) for v in table.cells(row)])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    """Empty for null; text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def filename(view: dict[str, Any]) -> str:
    """``rpt_1a2b3c4d5e6f.pdf``."""
    return f"{view['id']}.{view['format']}"
