"""Helpers of the report tests: create a report, wait for it, download its file."""

from __future__ import annotations

import time
from typing import Any

from harness import Sandbox

RANGE = {"start_date": "2024-03-01", "end_date": "2024-10-31"}


def create(sb: Sandbox, kind: str, fmt: str, params: dict | None = None, **kwargs: Any):
    body: dict[str, Any] = {"type": kind, "format": fmt}
    if params is not None:
        body["parameters"] = params
    return sb.post("/v1/reports", json=body, **kwargs)


def finished(sb: Sandbox, report_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll the report until it is completed or failed (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        report = sb.get(f"/v1/reports/{report_id}").json()
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
    query = {**params, "interval": "month"}
    response = sb.get("/v1/analytics/outcomes", params=query)
    assert response.status_code == 200, response.text
    return response.json()
