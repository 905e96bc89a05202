"""Patients: the seeded records, paging, search, create."""

from __future__ import annotations

import pytest

from harness import Sandbox

JANE = {
    "name": "Jane Smith",
    "date_of_birth": "1985-05-20",
    "gender": "female",
    "contact": {"email": "jane.smith@example.com"},
}


def test_seed_patient_123_is_verbatim(sandbox: Sandbox) -> None:
    body = sandbox.get("/v1/patients/patient_123").json()
    assert {
        k: body[k] for k in ("id", "name", "date_of_birth", "gender", "contact", "created_at")
    } == {
        "id": "patient_123",
        "name": "John Doe",
        "date_of_birth": "1980-01-15",
        "gender": "male",
        "contact": {"email": "john.doe@example.com", "phone": "+1-555-0123"},
        "created_at": "2024-01-01T00:00:00Z",
    }
    assert body["medical_history"], "the detail view carries the diagnoses"


def test_list_pages_with_total(sandbox: Sandbox) -> None:
    first = sandbox.get("/v1/patients?page=1&limit=10").json()
    assert first["pagination"] == {"page": 1, "limit": 10, "total": 150}
    assert len(first["data"]) == 10
    second = sandbox.get("/v1/patients?page=2&limit=10").json()
    assert {p["id"] for p in first["data"]}.isdisjoint(p["id"] for p in second["data"])
    assert set(first["data"][0]) == {"id", "name", "date_of_birth", "created_at"}


def test_defaults_are_page_1_limit_50(sandbox: Sandbox) -> None:
    body = sandbox.get("/v1/patients").json()
    assert body["pagination"] == {"page": 1, "limit": 50, "total": 150}


def test_page_past_the_end_is_empty_with_total(sandbox: Sandbox) -> None:
    body = sandbox.get("/v1/patients?page=99&limit=10").json()
    assert body == {"data": [], "pagination": {"page": 99, "limit": 10, "total": 150}}


@pytest.mark.parametrize("url", ["/v1/patients", "/v1/reports", "/v1/webhooks"])
def test_the_last_possible_page_is_an_empty_page_echoing_it(sandbox: Sandbox, url: str) -> None:
    page = 2**53 - 1  # the spec's maximum: every JSON reader holds it exactly
    body = sandbox.get(f"{url}?page={page}&limit=5").json()
    assert body["data"] == [] and body["pagination"]["page"] == page
    beyond = 1199796626097453406640668672  # found by the contract kit: once a 500
    answer = sandbox.request("GET", f"{url}?page={beyond}", check=False)
    assert answer.status_code == 400
    assert answer.json()["error"]["details"]["parameter"] == "page"


def test_search_matches_name_or_id_case_insensitively(sandbox: Sandbox) -> None:
    by_name = sandbox.get("/v1/patients?search=jOhN%20dOe").json()
    assert "patient_123" in [p["id"] for p in by_name["data"]]
    by_id = sandbox.get("/v1/patients?search=PATIENT_123").json()
    assert [p["id"] for p in by_id["data"]] == ["patient_123"]
    assert by_id["pagination"]["total"] == 1


def test_search_total_counts_all_matches_across_pages(sandbox: Sandbox) -> None:
    everyone = sandbox.get("/v1/patients?search=a&limit=100").json()
    total = everyone["pagination"]["total"]
    assert 0 < total <= 150
    assert all("a" in f"{p['id']} {p['name']}".lower() for p in everyone["data"])
    small = sandbox.get("/v1/patients?search=a&limit=5&page=2").json()
    assert small["pagination"]["total"] == total
    assert [p["id"] for p in small["data"]] == [p["id"] for p in everyone["data"][5:10]]


def test_created_patient_is_readable_listed_and_searchable(sandbox: Sandbox) -> None:
    response = sandbox.post("/v1/patients", json=JANE)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/v1/patients/{created['id']}"
    assert created["medical_history"] == [] and created["gender"] == "female"
    assert sandbox.get(response.headers["location"]).json() == created
    listed = sandbox.get("/v1/patients?page=4&limit=50").json()
    assert listed["pagination"]["total"] == 151
    assert created["id"] in [p["id"] for p in listed["data"]]
    found = sandbox.get("/v1/patients?search=jane%20smith").json()
    assert created["id"] in [p["id"] for p in found["data"]]


def test_created_patient_defaults_gender_and_contact(sandbox: Sandbox) -> None:
    created = sandbox.post("/v1/patients", json={"name": "Ann Lee", "date_of_birth": "1990-02-03"})
    assert created.json()["gender"] == "unknown" and created.json()["contact"] == {}


def test_impossible_date_of_birth_is_400_naming_the_field(sandbox: Sandbox) -> None:
    response = sandbox.post("/v1/patients", json={"name": "Ann Lee", "date_of_birth": "1985-02-30"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_PARAMETER"
    assert "date_of_birth" in error["message"]
    assert sandbox.get("/v1/patients?search=Ann%20Lee").json()["pagination"]["total"] == 0
