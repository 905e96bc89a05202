"""Report jobs: accepted at once, generated in the background, checked, per client."""

from __future__ import annotations

import time

import pytest

from harness import Sandbox
from pin_mock.server.background.report_jobs import CLIENT_SLOTS
from pin_mock.server.domain.reports.documents import FAILING_PATIENT_ID
from report_helpers import RANGE, create, finished

ORDER = ["pending", "processing", "completed"]


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


def test_a_report_is_finished_once_however_many_try(sandbox_factory) -> None:
    sb = sandbox_factory(report_delay=60.0)
    view = create(sb, "outcomes", "csv").json()
    store = sb.services.report_jobs.reports
    client = "sandbox-enterprise"
    done = {"status": "completed", "completed_at": view["created_at"], "error": None}
    first = sb.http.portal.call(
        store.advance, client, view, ("pending", "processing"), done, b"first\n"
    )
    again = sb.http.portal.call(
        store.advance, client, view, ("pending", "processing"), done, b"second\n"
    )
    assert (first, again) == (True, False)
    assert sb.get(f"{view['links']['download']}").content == b"first\n"


def test_one_clients_burst_of_reports_does_not_hold_back_another_client(sandbox_factory) -> None:
    sb = sandbox_factory(report_delay=1.0)
    burst = [create(sb, "outcomes", "csv").json()["id"] for _ in range(3 * CLIENT_SLOTS)]
    other = create(sb, "outcomes", "csv", as_client="sandbox-professional").json()
    assert finished(sb, other["id"], as_client="sandbox-professional")["status"] == "completed"
    # The burst runs CLIENT_SLOTS at a time, a report_delay per wave: most of it still waits.
    statuses = [sb.get(f"/v1/reports/{i}").json()["status"] for i in burst]
    assert statuses.count("completed") <= CLIENT_SLOTS
    for report_id in burst:
        assert finished(sb, report_id)["status"] == "completed"
