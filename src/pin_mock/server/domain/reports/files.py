"""The files of a report: JSON, CSV and PDF renderings of its document, and their names.

Every format renders the same ``ReportDocument`` (see ``documents``). The JSON
file is the document itself, with the API's field names and numbers, and
everything the report says: what it covers, the summary, every table. The
PDF is the printout (``pdf.py``). The CSV is data: one table per file, RFC 4180
in UTF-8, a header row of human titles (with units) and one row per record,
so ``csv.DictReader`` and ``pandas.read_csv`` load it as it is. Its table is
the report's own (``layout.main_table``): the trend periods (outcomes), the
groups of patients (population health) or the clinical entries (patient
summary); the summary figures and the secondary tables (the medications of an
outcomes report) are in the JSON and the PDF of the same report. Cells a
spreadsheet would run as a formula are quoted. The PDF module (and fpdf2 with it) is imported only when a PDF is
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
    """RFC 4180 CSV in UTF-8 (no BOM): the report's one table, a header row first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    table = layout.main_table(document)
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
