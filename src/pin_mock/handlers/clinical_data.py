"""A patient's clinical data: filtered, paged list; one entry; add an entry."""

from __future__ import annotations

from typing import Any

from pin_mock.errors import InvalidParameter
from pin_mock.handlers._http import client_id, created, now_iso, page_of, services


async def list_clinical_data(
    patient_id: str,
    start_date: str | None = None,
    end_date: str | None = None,
    data_type: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> dict[str, Any]:
    """GET /v1/patients/{patient_id}/clinical-data"""
    if start_date and end_date and start_date > end_date:
        raise InvalidParameter("start_date", start_date, "start_date must not be after end_date.")
    entries = services().store.entries(client_id(), patient_id)
    selected = [
        e
        for e in entries
        if (data_type is None or e["data_type"] == data_type)
        and (start_date is None or e["recorded_at"][:10] >= start_date)
        and (end_date is None or e["recorded_at"][:10] <= end_date)
    ]
    return page_of(selected, page=page, limit=limit)


async def get_clinical_data_entry(patient_id: str, entry_id: str) -> dict[str, Any]:
    """GET /v1/patients/{patient_id}/clinical-data/{entry_id}"""
    return services().store.get_entry(client_id(), patient_id, entry_id)


async def add_clinical_data(patient_id: str, body: dict[str, Any]) -> tuple[Any, int, dict]:
    """POST /v1/patients/{patient_id}/clinical-data"""
    svc = services()
    stamp = now_iso()
    value = dict(body["value"])
    if body["data_type"] == "pain_scores":
        value.setdefault("scale", "NRS")
    if body["data_type"] == "diagnoses":
        value.setdefault("status", "active")
    entry = {
        "id": svc.store.ids.new("cd"),
        "patient_id": patient_id,
        "data_type": body["data_type"],
        "recorded_at": _normalise(body.get("recorded_at")) or stamp,
        "value": value,
        "created_at": stamp,
    }
    svc.store.add_entry(client_id(), entry)
    location = f"/v1/patients/{patient_id}/clinical-data/{entry['id']}"
    svc.emit(
        client_id(),
        "clinical_data.updated",
        {
            "patient_id": patient_id,
            "entry_id": entry["id"],
            "data_type": entry["data_type"],
            "links": {"self": location},
        },
    )
    return created(entry, location)


def _normalise(stamp: str | None) -> str | None:
    """Store times as UTC ``...Z`` so string order is time order."""
    if not stamp:
        return None
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
