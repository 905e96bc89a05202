"""The files of a report: JSON, CSV and PDF renderings of its document, and their names.

Every format renders the same ``ReportDocument`` (see ``documents``). CSV is
RFC 4180 in UTF-8 with the same columns the PDF's table shows; cells a
spreadsheet would run as a formula are quoted. The PDF module (and fpdf2
with it) is imported only when a PDF is rendered, so the sandbox starts
without it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
COLUMNS = {
    "outcomes": ("period_start", "mean_pain_score", "count"),
    "population_health": ("group", "key", "label", "patients", "share"),
    "patient_summary": (
        "entry_id",
        "recorded_at",
        "data_type",
        "code",
        "name",
        "value",
        "unit",
        "details",
    ),
}
TITLES = {
    "patient_summary": "Patient summary",
    "outcomes": "Patient outcomes",
    "population_health": "Population health",
}


def render(fmt: str, document: dict[str, Any]) -> bytes:
    """The file of ``document`` in ``fmt``."""
    if fmt == "json":
        # A file for people to open, so indented; the API's answers use encoding.encode.
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)
    if fmt == "csv":
        return render_csv(document["rows"], COLUMNS[document["type"]])
    from pin_mock.server.reports.pdf import render_pdf  # fpdf2 is imported only when needed

    return render_pdf(document, TITLES[document["type"]], COLUMNS[document["type"]])


def render_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    """RFC 4180 CSV in UTF-8 (no BOM): a header row, then one row per record."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
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
