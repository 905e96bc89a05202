"""Reports: asynchronous generation, real files, numbers equal to the analytics endpoints."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import pytest
from harness import Sandbox
from pypdf import PdfReader

from pin_mock.server.report_pdf import text as pdf_text
from pin_mock.server.reports import FAILING_PATIENT_ID

RANGE = {"start_date": "2024-03-01", "end_date": "2024-10-31"}
ORDER = ["pending", "processing", "completed"]


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


# -- the lifecycle -------------------------------------------------------------------


def test_create_answers_202_and_the_report_is_readable_at_once(sandbox_factory) -> None:
    sb = sandbox_factory(report_delay=60.0)  # stays unfinished for the whole test
    response = create(sb, "outcomes", "pdf", RANGE)
    assert response.status_code == 202
    report = response.json()
    assert report["status"] == "pending"
    assert report["parameters"] == RANGE
    assert report["completed_at"] is None and report["error"] is None
    assert response.headers["location"] == report["links"]["self"] == f"/v1/reports/{report['id']}"
    assert report["links"]["download"] == f"/v1/reports/{report['id']}/download"
    assert sb.get(response.headers["location"]).json() == report


def test_download_is_409_report_not_ready_until_completed(sandbox_factory) -> None:
    sb = sandbox_factory(report_delay=60.0)
    report = create(sb, "outcomes", "csv").json()
    response = sb.get(report["links"]["download"])
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "REPORT_NOT_READY"
    assert error["details"] == {"report_id": report["id"], "status": "pending"}


def test_status_moves_forward_to_completed(sandbox_factory) -> None:
    sb = sandbox_factory(report_delay=0.2)
    report_id = create(sb, "outcomes", "json").json()["id"]
    seen = ["pending"]
    deadline = time.monotonic() + 10
    while seen[-1] != "completed":
        status = sb.get(f"/v1/reports/{report_id}").json()["status"]
        if status != seen[-1]:
            seen.append(status)
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert seen == sorted(seen, key=ORDER.index), seen  # never backwards, never failed
    report = sb.get(f"/v1/reports/{report_id}").json()
    assert report["completed_at"] >= report["created_at"]


def test_list_filters_by_status_and_pages(sandbox_factory) -> None:
    sb = sandbox_factory(report_delay=60.0)
    ids = [create(sb, "outcomes", "json").json()["id"] for _ in range(3)]
    assert [r["id"] for r in sb.get("/v1/reports").json()["data"]] == ids  # newest last
    assert sb.get("/v1/reports?status=pending").json()["pagination"]["total"] == 3
    assert sb.get("/v1/reports?status=completed").json()["data"] == []
    page = sb.get("/v1/reports?page=2&limit=2").json()
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 3}
    assert [r["id"] for r in page["data"]] == ids[2:]


def test_reports_belong_to_their_client(sandbox: Sandbox) -> None:
    report = create(sandbox, "outcomes", "json").json()
    other = "sandbox-professional"
    assert sandbox.get(report["links"]["self"], as_client=other).status_code == 404
    assert sandbox.get(report["links"]["download"], as_client=other).status_code == 404
    assert sandbox.get("/v1/reports", as_client=other).json()["data"] == []


def test_a_failing_report_says_why_and_has_no_file(sandbox: Sandbox) -> None:
    created = create(sandbox, "patient_summary", "pdf", {"patient_id": FAILING_PATIENT_ID})
    report = finished(sandbox, created.json()["id"])
    assert report["status"] == "failed"
    assert report["error"]["code"] == "REPORT_GENERATION_FAILED"
    assert report["completed_at"] is not None
    response = sandbox.get(report["links"]["download"])
    assert response.status_code == 409
    assert response.json()["error"]["details"]["status"] == "failed"


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"type": "forecast", "format": "pdf"}, "type"),
        ({"type": "outcomes", "format": "xlsx"}, "format"),
        ({"type": "outcomes"}, "format"),
        ({"type": "outcomes", "format": "csv", "parameters": {"colour": "red"}}, "parameters"),
        (
            {"type": "outcomes", "format": "csv", "parameters": {"start_date": "2024-02-30"}},
            "parameters.start_date",
        ),
        (
            {"type": "outcomes", "format": "csv", "parameters": {"start_date": "01/01/2024"}},
            "parameters.start_date",
        ),
        (
            {
                "type": "outcomes",
                "format": "csv",
                "parameters": {"start_date": "2024-05-01", "end_date": "2024-04-01"},
            },
            "parameters.start_date",
        ),
        ({"type": "patient_summary", "format": "pdf"}, "parameters.patient_id"),
        (
            {
                "type": "population_health",
                "format": "pdf",
                "parameters": {"patient_id": "patient_123"},
            },
            "parameters.patient_id",
        ),
    ],
)
def test_invalid_requests_are_400_naming_the_field(
    sandbox: Sandbox, body: dict, parameter: str
) -> None:
    response = sandbox.post("/v1/reports", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_PARAMETER"
    assert error["details"]["parameter"].startswith(parameter)
    assert sandbox.get("/v1/reports").json()["data"] == []


def test_an_unknown_patient_is_404(sandbox: Sandbox) -> None:
    response = create(sandbox, "patient_summary", "csv", {"patient_id": "patient_nobody"})
    assert response.status_code == 404
    assert response.json()["error"]["details"]["value"] == "patient_nobody"


# -- the files -----------------------------------------------------------------------


def test_outcomes_json_equals_the_outcomes_endpoint(sandbox: Sandbox) -> None:
    report, response = download(sandbox, "outcomes", "json", RANGE)
    assert response.headers["content-type"] == "application/json"  # validated as ReportDocument
    document = json.loads(response.content)
    assert document["report_id"] == report["id"] and document["parameters"] == RANGE
    expected = analytics_outcomes(sandbox, RANGE)
    assert document["summary"]["outcomes"] == expected
    assert document["rows"] == expected["trend"]


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


def test_population_health_report_equals_the_endpoint(sandbox: Sandbox) -> None:
    _, response = download(sandbox, "population_health", "json")
    document = json.loads(response.content)
    population = sandbox.get("/v1/analytics/population-health").json()
    assert document["summary"]["population_health"] == population
    assert document["summary"]["outcomes"] == analytics_outcomes(sandbox, {})

    _, response = download(sandbox, "population_health", "csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    genders = {r["key"]: int(r["patients"]) for r in rows if r["group"] == "gender"}
    assert genders == population["by_gender"]
    assert sum(genders.values()) == population["total_patients"]
    diagnoses = [(r["key"], int(r["patients"])) for r in rows if r["group"] == "diagnosis"]
    assert diagnoses == [(d["icd10_code"], d["patients"]) for d in population["top_diagnoses"]]

    _, response = download(sandbox, "population_health", "pdf")
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "PIN report: Population health" in words
    assert f"Total patients: {population['total_patients']}" in words


def test_patient_summary_lists_the_patients_entries_in_the_range(sandbox: Sandbox) -> None:
    params = {"patient_id": "patient_123", **RANGE}
    _, response = download(sandbox, "patient_summary", "json", params)
    document = json.loads(response.content)
    query = {**RANGE, "limit": 100}
    entries = sandbox.get("/v1/patients/patient_123/clinical-data", params=query).json()
    assert [r["entry_id"] for r in document["rows"]] == [e["id"] for e in entries["data"]]
    assert document["summary"]["patient"]["id"] == "patient_123"
    assert document["summary"]["outcomes"] == analytics_outcomes(sandbox, params)

    _, response = download(sandbox, "patient_summary", "csv", params)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert len(rows) == entries["pagination"]["total"]
    pain = [e for e in entries["data"] if e["data_type"] == "pain_scores"]
    assert [int(r["value"]) for r in rows if r["data_type"] == "pain_scores"] == [
        e["value"]["score"] for e in pain
    ]

    _, response = download(sandbox, "patient_summary", "pdf", params)
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "John Doe" in words and "patient_123" in words


def test_reports_see_the_clients_own_new_data(sandbox: Sandbox) -> None:
    patient = sandbox.post(
        "/v1/patients", json={"name": "=Formula Person", "date_of_birth": "1970-01-01"}
    ).json()
    for day, score in (("2024-05-02", 8), ("2024-06-03", 4)):
        sandbox.post(
            f"/v1/patients/{patient['id']}/clinical-data",
            json={
                "data_type": "pain_scores",
                "recorded_at": f"{day}T10:00:00Z",
                "value": {"score": score, "notes": "-2 after @physio"},
            },
        )
    params = {"patient_id": patient["id"]}
    _, response = download(sandbox, "outcomes", "json", params)
    trend = json.loads(response.content)["summary"]["outcomes"]["trend"]
    assert [(p["period_start"], p["count"]) for p in trend if p["count"]] == [
        ("2024-05-01", 1),
        ("2024-06-01", 1),
    ]
    _, response = download(sandbox, "patient_summary", "csv", params)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [r["details"] for r in rows] == ["'-2 after @physio"] * 2  # no formula injection
