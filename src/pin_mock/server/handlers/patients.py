"""Patients: list (paged, searchable), detail, create."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.events import Events
from pin_mock.server.domain.store import Store
from pin_mock.server.handlers.responses import created, now_iso, paged

SUMMARY_FIELDS = ("id", "name", "date_of_birth", "created_at")


def summary(patient: dict[str, Any]) -> dict[str, Any]:
    """The list view of a patient."""
    return {k: patient[k] for k in SUMMARY_FIELDS}


def medical_history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per diagnosis code: first onset, latest status."""
    history: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry["data_type"] != "diagnoses":
            continue
        value = entry["value"]
        item = history.setdefault(
            value["icd10_code"],
            {
                "code": value["icd10_code"],
                "system": "ICD-10-CM",
                "display": value["display"],
                "onset_date": entry["recorded_at"][:10],
            },
        )
        item["status"] = value.get("status", "active")
    return list(history.values())


def detail(patient: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The detail view: the record plus its medical history."""
    return {
        "id": patient["id"],
        "name": patient["name"],
        "date_of_birth": patient["date_of_birth"],
        "gender": patient["gender"],
        "contact": patient["contact"],
        "medical_history": medical_history(entries),
        "created_at": patient["created_at"],
    }


async def list_patients(
    store: Store, caller: Caller, page: int = 1, limit: int = 50, search: str | None = None
) -> dict:
    """GET /v1/patients"""
    items, total = await store.list_patients(
        caller.client_id, search=search, offset=(page - 1) * limit, limit=limit
    )
    return paged([summary(p) for p in items], page=page, limit=limit, total=total)


async def get_patient(store: Store, caller: Caller, patient_id: str) -> dict[str, Any]:
    """GET /v1/patients/{patient_id}"""
    patient, entries = await store.patient_with_entries(caller.client_id, patient_id)
    return detail(patient, entries)


async def create_patient(
    store: Store,
    events: Events,
    clock: Callable[[], float],
    caller: Caller,
    body: dict[str, Any],
) -> tuple[Any, int, dict]:
    """POST /v1/patients"""
    patient = {
        "id": store.ids.new("patient"),
        "name": body["name"].strip(),
        "date_of_birth": body["date_of_birth"],
        "gender": body.get("gender", "unknown"),
        "contact": body.get("contact", {}),
        "created_at": now_iso(clock),
    }
    location = f"/v1/patients/{patient['id']}"
    # The patients quota is checked in the same atomic step as the write (store.add_patient),
    # and the event's deliveries are queued in it too: a 201 means they are queued.
    await events.emit_with(
        caller.client_id,
        "patient.created",
        {"patient_id": patient["id"], "links": {"self": location}},
        lambda then: store.add_patient(caller.client_id, patient, then),
    )
    return created(detail(patient, []), location)
