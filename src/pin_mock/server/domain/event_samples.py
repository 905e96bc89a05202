"""Realistic data for an event on demand (``POST /_sandbox/events`` without ``data``).

The data of each event type PIN documents (``openapi/pin.yaml``'s callbacks),
pointing at objects the caller can really read, so a receiver that follows the
event's links finds what it names (as ``stripe trigger`` leaves real objects):

- ``patient.created``: the caller's newest created patient, else the seeded
  ``patient_123``;
- ``clinical_data.updated``: that patient's newest entry (a seeded patient's
  newest seeded entry when the patient has none of its own);
- ``report.completed`` / ``report.failed``: the caller's newest report with
  that status; without one, a report id of the documented form that no report
  has yet (its links then answer 404, as they would for a report since reset).

Nothing here writes: an event on demand announces, it does not create.
"""

from __future__ import annotations

from typing import Any

from pin_mock.server.domain.reports.service import Reports
from pin_mock.server.domain.store import Store
from pin_mock.server.encoding import encode
from pin_mock.server.errors import InvalidParameter

#: The seeded patient every sandbox has (the spec's examples use it).
SEEDED_PATIENT = "patient_123"
#: The largest ``data`` a caller may give, as JSON: every delivery carries it, and the
#: archive keeps it for a resend (bounded per client: ``state/event_archive_port.py``).
MAX_DATA_BYTES = 4_096


def check_given(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The caller's ``data`` (valid against its type's schema already), if also small
    enough and consistent: a report event's ``status`` is its type's."""
    if len(encode(data)) > MAX_DATA_BYTES:
        raise InvalidParameter(
            "data", None, f"'data' must be at most {MAX_DATA_BYTES} bytes as JSON."
        )
    if event_type.startswith("report.") and data["status"] != event_type.removeprefix("report."):
        wanted = event_type.removeprefix("report.")
        raise InvalidParameter(
            "data.status",
            data["status"],
            f"'data.status' of a {event_type} event must be {wanted}.",
        )
    return data


async def sample_data(
    event_type: str, client_id: str, store: Store, reports: Reports
) -> dict[str, Any]:
    """The data of a ``event_type`` event for ``client_id`` (a type PIN documents)."""
    if event_type.startswith("report."):
        return await _report_data(event_type.removeprefix("report."), client_id, store, reports)
    patient_id = await _newest_patient(client_id, store)
    if event_type == "patient.created":
        return {"patient_id": patient_id, "links": {"self": f"/v1/patients/{patient_id}"}}
    entries = await store.entries(client_id, patient_id)
    if not entries:  # a created patient without entries of its own: the seeded one's
        patient_id = SEEDED_PATIENT if store.seed_patient(SEEDED_PATIENT) else patient_id
        entries = await store.entries(client_id, patient_id)
    entry = entries[-1]
    return {
        "patient_id": patient_id,
        "entry_id": entry["id"],
        "data_type": entry["data_type"],
        "links": {"self": f"/v1/patients/{patient_id}/clinical-data/{entry['id']}"},
    }


async def _newest_patient(client_id: str, store: Store) -> str:
    _, created = await store.tenants.page(client_id, 0, 0)
    if created:
        newest, _ = await store.tenants.page(client_id, created - 1, 1)
        if newest:
            return newest[0]["id"]
    if store.seed_patient(SEEDED_PATIENT) is not None:
        return SEEDED_PATIENT
    return store.seed.patients[0]["id"]


async def _report_data(
    status: str, client_id: str, store: Store, reports: Reports
) -> dict[str, Any]:
    mine = [r for r in await reports.all(client_id) if r["status"] == status]
    if mine:
        report = mine[-1]
        return {"report_id": report["id"], "status": status, "links": dict(report["links"])}
    report_id = store.ids.new("rpt")
    self_link = f"/v1/reports/{report_id}"
    return {
        "report_id": report_id,
        "status": status,
        "links": {"self": self_link, "download": f"{self_link}/download"},
    }
