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


def csv_table(content: bytes) -> list[dict[str, str]]:
    """A report CSV read as its readers read it: ``csv.DictReader``, and pandas agreeing.

    The file must be one table with one header row: ``pandas.read_csv`` loads it
    unchanged (no options), with the same columns and as many rows.
    """
    import pandas

    text = content.decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert reader.fieldnames and all(reader.fieldnames), reader.fieldnames
    assert all(None not in row and None not in row.values() for row in rows), "ragged rows"
    frame = pandas.read_csv(io.BytesIO(content))
    assert list(frame.columns) == reader.fieldnames
    assert len(frame) == len(rows)
    return rows


def pdf_text(content: bytes) -> list[str]:
    """The text of each page of a PDF (pypdf's extraction, every orientation)."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def page_fill(content: bytes) -> list[float]:
    """How far down each page its text reaches (0: none, 1: the bottom), the footer left out."""
    fills = []
    for page in PdfReader(io.BytesIO(content)).pages:
        height = float(page.mediabox.height)
        baselines: list[float] = []

        def visit(text: str, _cm: Any, tm: Any, _font: Any, _size: Any, into=baselines) -> None:
            if text.strip():
                into.append(float(tm[5]))

        page.extract_text(visitor_text=visit)
        body = [y for y in baselines if y > FOOTER_TOP]
        fills.append((height - min(body)) / height if body else 0.0)
    return fills


#: The footer's text sits below this many points from the page's bottom (pdf.py: 12 mm up).
FOOTER_TOP = 40.0
