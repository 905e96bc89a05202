"""Clinical data: filters that really filter, per-type validation, new entries show up."""

from __future__ import annotations

from typing import Any

import pytest

from harness import Sandbox

URL = "/v1/patients/patient_7/clinical-data"
DATA_TYPES = ["pain_scores", "medications", "vitals", "diagnoses", "lab_results", "procedures"]


def all_entries(sandbox: Sandbox, url: str = URL, **params: Any) -> list[dict[str, Any]]:
    body = sandbox.get(url, params={"limit": 100, **params}).json()
    assert body["pagination"]["total"] <= 100, "test patient fits one page"
    return body["data"]


def error_of(response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return response.json()["error"]


def test_list_is_oldest_first_and_pages_with_total(sandbox: Sandbox) -> None:
    everything = all_entries(sandbox)
    assert [e["recorded_at"] for e in everything] == sorted(e["recorded_at"] for e in everything)
    total = len(everything)
    second = sandbox.get(URL, params={"limit": 10, "page": 2}).json()
    assert second["pagination"] == {"page": 2, "limit": 10, "total": total}
    assert second["data"] == everything[10:20]
    past = sandbox.get(URL, params={"limit": 10, "page": 99}).json()
    assert past == {"data": [], "pagination": {"page": 99, "limit": 10, "total": total}}


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_data_type_filter_returns_exactly_that_type(sandbox: Sandbox, data_type: str) -> None:
    expected = [e for e in all_entries(sandbox) if e["data_type"] == data_type]
    assert all_entries(sandbox, data_type=data_type) == expected


def test_date_range_is_inclusive_on_the_entry_date(sandbox: Sandbox) -> None:
    everything = all_entries(sandbox)
    days = sorted({e["recorded_at"][:10] for e in everything})
    start, end = days[1], days[3]
    expected = [e for e in everything if start <= e["recorded_at"][:10] <= end]
    assert all_entries(sandbox, start_date=start, end_date=end) == expected
    assert {e["recorded_at"][:10] for e in expected} >= {start, end}, "both ends included"
    only = all_entries(sandbox, start_date=start, end_date=start)
    assert only and all(e["recorded_at"].startswith(start) for e in only)
    assert all_entries(sandbox, start_date=days[-1]) == [
        e for e in everything if e["recorded_at"][:10] == days[-1]
    ]


def test_filters_combine(sandbox: Sandbox) -> None:
    everything = all_entries(sandbox)
    start = everything[len(everything) // 2]["recorded_at"][:10]
    expected = [
        e for e in everything if e["data_type"] == "vitals" and e["recorded_at"][:10] >= start
    ]
    assert all_entries(sandbox, data_type="vitals", start_date=start) == expected


def test_start_after_end_is_400(sandbox: Sandbox) -> None:
    error = error_of(
        sandbox.get(URL, params={"start_date": "2024-05-02", "end_date": "2024-05-01"})
    )
    assert error["code"] == "INVALID_PARAMETER"
    assert error["details"] == {"parameter": "start_date", "value": "2024-05-02"}
    assert "end_date" in error["message"]


@pytest.mark.parametrize("value", ["01/01/2024", "2024-1-5", "2024-02-30", "2023-13-01"])
def test_bad_or_impossible_date_is_the_documented_error(sandbox: Sandbox, value: str) -> None:
    error = error_of(sandbox.get(URL, params={"end_date": value}))
    assert error == {
        "code": "INVALID_PARAMETER",
        "message": "Invalid date format. Use YYYY-MM-DD.",
        "details": {"parameter": "end_date", "value": value},
    }


def test_unknown_data_type_is_400_naming_the_allowed_values(sandbox: Sandbox) -> None:
    error = error_of(sandbox.get(URL, params={"data_type": "moods"}))
    assert error["details"] == {"parameter": "data_type", "value": "moods"}
    assert all(name in error["message"] for name in DATA_TYPES)


def test_unknown_patient_is_404(sandbox: Sandbox) -> None:
    for response in (
        sandbox.get("/v1/patients/patient_999999/clinical-data"),
        sandbox.post(
            "/v1/patients/patient_999999/clinical-data",
            json={"data_type": "pain_scores", "value": {"score": 3}},
        ),
        sandbox.get("/v1/patients/patient_7/clinical-data/cd_nope"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"


def test_added_entry_is_stored_and_appears_in_the_next_get(sandbox: Sandbox) -> None:
    before = all_entries(sandbox)
    response = sandbox.post(
        URL,
        json={
            "data_type": "pain_scores",
            "recorded_at": "2024-06-15T11:30:00+02:00",
            "value": {"score": 8, "location": "knee"},
        },
    )
    assert response.status_code == 201
    entry = response.json()
    assert entry["recorded_at"] == "2024-06-15T09:30:00Z", "stored in UTC"
    assert entry["value"] == {"score": 8, "location": "knee", "scale": "NRS"}
    assert response.headers["location"] == f"{URL}/{entry['id']}"
    assert sandbox.get(response.headers["location"]).json() == entry
    after = all_entries(sandbox)
    assert len(after) == len(before) + 1 and entry in after
    assert after == sorted(after, key=lambda e: e["recorded_at"])
    day = all_entries(
        sandbox, start_date="2024-06-15", end_date="2024-06-15", data_type="pain_scores"
    )
    assert entry in day


def test_recorded_at_defaults_to_now(sandbox: Sandbox) -> None:
    entry = sandbox.post(
        URL,
        json={"data_type": "vitals", "value": {"name": "heart_rate", "value": 71, "unit": "/min"}},
    ).json()
    assert entry["recorded_at"] == entry["created_at"]
    assert entry["recorded_at"] > "2025-01-01"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-03-01T09:30:00.250+02:00", "2024-03-01T07:30:00Z"),
        ("1916-01-13T22:44:22-16:37", "1916-01-14T15:21:22Z"),
    ],
)
def test_recorded_at_is_stored_as_utc_whole_seconds(
    sandbox: Sandbox, given: str, stored: str
) -> None:
    body = {
        "data_type": "vitals",
        "recorded_at": given,
        "value": {"name": "pulse", "value": 70, "unit": "/min"},
    }
    assert sandbox.post(URL, json=body).json()["recorded_at"] == stored


@pytest.mark.parametrize(
    "given", ["0001-01-01T00:00:00+05:00", "0516-01-13T22:44:22-16:37", "9999-12-01T00:00:00Z"]
)
def test_recorded_at_outside_the_documented_years_is_400(sandbox: Sandbox, given: str) -> None:
    body = {
        "data_type": "vitals",
        "recorded_at": given,
        "value": {"name": "pulse", "value": 70, "unit": "/min"},
    }
    response = sandbox.post(URL, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["parameter"] == "recorded_at"
    assert "1900-01-01 to 2100-12-31" in error["message"]


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"data_type": "pain_scores", "value": {"score": 11}}, "value.score"),
        ({"data_type": "pain_scores", "value": {"score": -1}}, "value.score"),
        ({"data_type": "pain_scores", "value": {"score": 6.5}}, "value.score"),
        ({"data_type": "medications", "value": {"name": "Ibuprofen", "dose": "400 mg"}}, "value.frequency"),
        ({"data_type": "diagnoses", "value": {"icd10_code": "back pain", "display": "x"}}, "value.icd10_code"),
        ({"data_type": "vitals", "value": {"name": "heart_rate", "value": "fast", "unit": "/min"}}, "value.value"),
        ({"data_type": "lab_results", "value": {"name": "CRP", "value": 4.2}}, "value.unit"),
        ({"data_type": "procedures", "value": {"name": "PT", "surgeon": "x"}}, "value.surgeon"),
        ({"data_type": "medications", "value": {"name": "X", "dose": "1", "frequency": "daily", "start_date": "2024-02-30"}}, "value.start_date"),
        ({"data_type": "medications", "value": {"name": "X", "dose": "1", "frequency": "daily", "start_date": "2024-03-02", "end_date": "2024-03-01"}}, "value.end_date"),
        ({"data_type": "moods", "value": {}}, "data_type"),
        ({"value": {"score": 3}}, "data_type"),
        ({"data_type": "pain_scores", "value": {"score": 3}, "recorded_at": "yesterday"}, "recorded_at"),
    ],
)  # fmt: skip
def test_entry_is_validated_against_its_type(
    sandbox: Sandbox, body: dict[str, Any], parameter: str
) -> None:
    before = len(all_entries(sandbox))
    error = error_of(sandbox.post(URL, json=body))
    assert error["code"] == "INVALID_PARAMETER"
    assert error["details"]["parameter"] == parameter
    assert len(all_entries(sandbox)) == before, "nothing stored"


def test_each_type_is_accepted_with_its_own_value(sandbox: Sandbox) -> None:
    values = {
        "pain_scores": {"score": 0, "scale": "NRS", "notes": "pain free today"},
        "medications": {
            "name": "Duloxetine 20 MG Delayed Release Oral Capsule",
            "rxnorm_code": "596926",
            "dose": "20 mg",
            "frequency": "daily",
            "start_date": "2024-06-01",
            "end_date": None,
            "reason_code": "M79.7",
        },
        "vitals": {"loinc_code": "8867-4", "name": "heart_rate", "value": 64, "unit": "/min"},
        "diagnoses": {"icd10_code": "M79.7", "display": "Fibromyalgia"},
        "lab_results": {"name": "Creatinine", "value": 0.9, "unit": "mg/dL", "flag": "normal"},
        "procedures": {"name": "Physical therapy", "body_site": "lower back"},
    }
    for data_type, value in values.items():
        response = sandbox.post(URL, json={"data_type": data_type, "value": value})
        assert response.status_code == 201, response.text
        assert response.json()["data_type"] == data_type
    assert response.json()["value"] == values["procedures"]


def test_a_new_diagnosis_reaches_the_medical_history(sandbox: Sandbox) -> None:
    body = {"data_type": "diagnoses", "recorded_at": "2024-07-01T10:00:00Z"}
    sandbox.post(URL, json={**body, "value": {"icd10_code": "G89.28", "display": "Postprocedural"}})
    history = sandbox.get("/v1/patients/patient_7").json()["medical_history"]
    item = next(h for h in history if h["code"] == "G89.28")
    assert item == {
        "code": "G89.28",
        "system": "ICD-10-CM",
        "display": "Postprocedural",
        "onset_date": "2024-07-01",
        "status": "active",
    }
    resolved = {"icd10_code": "G89.28", "display": "Postprocedural", "status": "resolved"}
    sandbox.post(URL, json={"data_type": "diagnoses", "value": resolved})
    history = sandbox.get("/v1/patients/patient_7").json()["medical_history"]
    assert next(h for h in history if h["code"] == "G89.28")["status"] == "resolved"


def test_medical_history_is_derived_from_the_seeded_diagnoses(sandbox: Sandbox) -> None:
    diagnoses = all_entries(sandbox, data_type="diagnoses")
    history = sandbox.get("/v1/patients/patient_7").json()["medical_history"]
    assert [h["code"] for h in history] == list(
        dict.fromkeys(d["value"]["icd10_code"] for d in diagnoses)
    )
    assert history[0]["onset_date"] == diagnoses[0]["recorded_at"][:10]


def test_adding_an_entry_emits_clinical_data_updated(sandbox: Sandbox) -> None:
    heard: list[tuple[str, str, dict]] = []
    sandbox.services.events.subscribe(lambda *event: heard.append(event))
    entry = sandbox.post(URL, json={"data_type": "pain_scores", "value": {"score": 2}}).json()
    assert heard == [
        (
            "sandbox-enterprise",
            "clinical_data.updated",
            {
                "patient_id": "patient_7",
                "entry_id": entry["id"],
                "data_type": "pain_scores",
                "links": {"self": f"{URL}/{entry['id']}"},
            },
        )
    ]
