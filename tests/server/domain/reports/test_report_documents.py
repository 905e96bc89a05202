"""Report documents: the numbers equal the analytics endpoints, rows the API's data."""

from __future__ import annotations

import json

from harness import Sandbox
from report_helpers import RANGE, analytics_outcomes, csv_table, download, pdf_text


def test_outcomes_json_equals_the_outcomes_endpoint(sandbox: Sandbox) -> None:
    report, response = download(sandbox, "outcomes", "json", RANGE)
    assert response.headers["content-type"] == "application/json"  # validated as ReportDocument
    document = json.loads(response.content)
    assert document["report_id"] == report["id"] and document["parameters"] == RANGE
    expected = analytics_outcomes(sandbox, RANGE)
    assert document["summary"]["outcomes"] == expected
    assert document["rows"] == expected["trend"]


def test_population_health_report_equals_the_endpoint(sandbox: Sandbox) -> None:
    _, response = download(sandbox, "population_health", "json")
    document = json.loads(response.content)
    population = sandbox.get("/v1/analytics/population-health").json()
    assert document["summary"]["population_health"] == population
    assert document["summary"]["outcomes"] == analytics_outcomes(sandbox, {})

    _, response = download(sandbox, "population_health", "csv")
    rows = csv_table(response.content)
    genders = {r["Name"]: int(r["Patients"]) for r in rows if r["Group"] == "Gender"}
    assert genders == {g.capitalize(): n for g, n in population["by_gender"].items()}
    assert sum(genders.values()) == population["total_patients"]
    diagnoses = [(r["Code"], int(r["Patients"])) for r in rows if r["Group"].startswith("Diag")]
    assert diagnoses == [(d["icd10_code"], d["patients"]) for d in population["top_diagnoses"]]

    _, response = download(sandbox, "population_health", "pdf")
    words = " ".join(pdf_text(response.content))
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
    rows = csv_table(response.content)
    assert len(rows) == entries["pagination"]["total"]
    assert [r["Entry ID"] for r in rows] == [e["id"] for e in entries["data"]]
    pain = [e for e in entries["data"] if e["data_type"] == "pain_scores"]
    assert [int(r["Value"]) for r in rows if r["Type"] == "Pain score"] == [
        e["value"]["score"] for e in pain
    ]

    _, response = download(sandbox, "patient_summary", "pdf", params)
    words = " ".join(pdf_text(response.content))
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
    rows = csv_table(response.content)
    assert [r["Details"] for r in rows] == ["'-2 after @physio"] * 2  # no formula injection
