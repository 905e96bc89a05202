"""Helpers of the report tests: create a report, wait for it, download its file."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from pypdf import PdfReader

from harness import Sandbox

RANGE = {"start_date": "2024-03-01", "end_date": "2024-10-31"}


def create(sb: Sandbox, kind: str, fmt: str, params: dict | None = None, **kwargs: Any):
    body: dict[str, Any] = {"type": kind, "format": fmt}
    if params is not None:
        body["parameters"] = params
    return sb.post("/v1/reports", json=body, **kwargs)


def finished(sb: Sandbox, report_id: str, timeout: float = 10.0, **kwargs: Any) -> dict[str, Any]:
    """Poll the report until it is completed or failed (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        report = sb.get(f"/v1/reports/{report_id}", **kwargs).json()
        if report["status"] in ("completed", "failed"):
            return report
        assert time.monotonic() < deadline, f"report still {report['status']} after {timeout} s"
        time.sleep(0.01)


def download(sb: Sandbox, kind: str, fmt: str, params: dict | None = None):
    created = create(sb, kind, fmt, params)
    assert created.status_code == 202, created.text
    report = finished(sb, created.json()["id"])
    assert report["status"] == "completed", report
    response = sb.get(report["links"]["download"])
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="{report["id"]}.{fmt}"'
    return report, response


def analytics_outcomes(sb: Sandbox, params: dict) -> dict[str, Any]:
    """``GET /v1/analytics/outcomes`` for a report's parameters (``interval`` as the report's)."""
    query = {**params, "interval": params.get("interval", "month")}
    response = sb.get("/v1/analytics/outcomes", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def csv_parts(content: bytes) -> dict[str, Any]:
    """A report CSV read back: ``about`` and ``summary`` (label -> value), ``notes``,
    and ``tables`` (title -> list of dicts keyed by the human column titles).

    The file is blank-row-separated parts (``reports/files.py``): the about block,
    the ``Summary`` block (with ``Note`` rows), then each table under its title row.
    """
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    parts: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            parts[-1].append(row)
        else:
            parts.append([])
    about, summary_part, *table_parts = parts
    assert summary_part[0] == ["Summary"]
    summary = {r[0]: r[1] for r in summary_part[1:] if r[0] != "Note"}
    notes = [r[1] for r in summary_part[1:] if r[0] == "Note"]
    tables = {}
    for part in table_parts:
        (title,), header, *records = part
        assert all(len(r) == len(header) for r in records), title
        tables[title] = [dict(zip(header, r, strict=True)) for r in records]
    return {"about": dict(about), "summary": summary, "notes": notes, "tables": tables}


def pdf_text(content: bytes) -> list[str]:
    """The text of each page of a PDF (pypdf's extraction, every orientation)."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]
