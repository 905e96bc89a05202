"""A patient's clinical data: filtered, paged list; one entry; add an entry.

The spec validates the query (dates, the ``data_type`` enum) and the body (the
entry's ``value`` against its ``data_type``) before these run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.dates import check_date_range
from pin_mock.server.domain.events import Events
from pin_mock.server.domain.store import Store
from pin_mock.server.errors import InvalidParameter
from pin_mock.server.handlers.responses import created, now_iso, page_of
from pin_mock.server.timestamps import normalise

#: Defaults the spec declares for a value's optional fields, stored explicitly.
VALUE_DEFAULTS = {"pain_scores": {"scale": "NRS"}, "diagnoses": {"status": "active"}}


async def list_clinical_data(
    store: Store,
    caller: Caller,
    patient_id: str,
    start_date: str | None = None,
    end_date: str | None = None,
    data_type: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> dict[str, Any]:
    """GET /v1/patients/{patient_id}/clinical-data: oldest first, dates inclusive."""
    check_date_range(start_date, end_date)
    entries = await store.entries(caller.client_id, patient_id)
    selected = [
        e
        for e in entries
        if (data_type is None or e["data_type"] == data_type)
        and (start_date is None or e["recorded_at"][:10] >= start_date)
        and (end_date is None or e["recorded_at"][:10] <= end_date)
    ]
    return page_of(selected, page=page, limit=limit)


async def get_clinical_data_entry(
    store: Store, caller: Caller, patient_id: str, entry_id: str
) -> dict[str, Any]:
    """GET /v1/patients/{patient_id}/clinical-data/{entry_id}"""
    return await store.get_entry(caller.client_id, patient_id, entry_id)


async def add_clinical_data(
    store: Store,
    events: Events,
    clock: Callable[[], float],
    caller: Caller,
    patient_id: str,
    body: dict[str, Any],
) -> tuple[Any, int, dict]:
    """POST /v1/patients/{patient_id}/clinical-data"""
    stamp = now_iso(clock)
    data_type = body["data_type"]
    if data_type == "medications":
        value = body["value"]
        check_date_range(
            value.get("start_date"), value.get("end_date"), prefix="value.", blame="end_date"
        )
    entry = {
        "id": store.ids.new("cd"),
        "patient_id": patient_id,
        "data_type": data_type,
        "recorded_at": _recorded_at(body.get("recorded_at")) or stamp,
        "value": {**VALUE_DEFAULTS.get(data_type, {}), **body["value"]},
        "created_at": stamp,
    }
    location = f"/v1/patients/{patient_id}/clinical-data/{entry['id']}"
    # 404 for an unknown patient, then 409 past the entries quota: checked with the write,
    # and the event's deliveries are queued in it too (a 201 means they are queued).
    await events.emit_with(
        caller.client_id,
        "clinical_data.updated",
        {
            "patient_id": patient_id,
            "entry_id": entry["id"],
            "data_type": data_type,
            "links": {"self": location},
        },
        lambda then: store.add_entry(caller.client_id, entry, then),
    )
    return created(entry, location)


def _recorded_at(stamp: str | None) -> str | None:
    """Store times as UTC ``...Z`` (whole seconds), so string order is time order."""
    if not stamp:
        return None
    try:
        return normalise(stamp)
    except ValueError as exc:
        raise InvalidParameter("recorded_at", stamp, f"recorded_at {exc}.") from exc
