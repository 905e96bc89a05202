"""Report requests: checked, stored as ``pending`` with their job queued, then read.

A report is stored at once as ``pending`` (so ``GET /v1/reports/{id}`` never
404s) and its job is queued on the engine's report queue in the same step,
with the ``reports`` quota checked there too (one count for every worker).
``background/report_jobs.py`` takes the job and moves the report along.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pin_mock.server.domain.quotas as quotas
from pin_mock.server.domain.dates import check_date_range
from pin_mock.server.domain.reports.documents import FAILING_PATIENT_ID
from pin_mock.server.domain.store import Store
from pin_mock.server.errors import InvalidParameter, NotFound, ServiceUnavailable
from pin_mock.server.origins import stamped
from pin_mock.server.settings import Settings
from pin_mock.server.state.outages import RETRY_AFTER
from pin_mock.server.state.ports import QueueClosed, ReportStore
from pin_mock.server.timestamps import iso


class Reports:
    """The reports of every client: accept a request, read a report and its file."""

    def __init__(
        self, store: Store, reports: ReportStore, clock: Callable[[], float], settings: Settings
    ) -> None:
        self.store = store
        self.reports = reports
        self.clock = clock
        self.settings = settings

    async def check(self, client_id: str, kind: str, params: dict[str, Any]) -> None:
        """400 for parameters that cannot make this kind of report, 404 for an unknown patient."""
        check_date_range(params.get("start_date"), params.get("end_date"), prefix="parameters.")
        patient_id = params.get("patient_id")
        if kind == "patient_summary" and not patient_id:
            raise InvalidParameter(
                "parameters.patient_id",
                None,
                "A patient_summary report needs parameters.patient_id.",
            )
        if kind == "population_health" and patient_id:
            raise InvalidParameter(
                "parameters.patient_id",
                patient_id,
                "A population_health report covers every patient; patient_id is not allowed.",
            )
        if patient_id and patient_id != FAILING_PATIENT_ID:
            try:
                await self.store.get_patient(client_id, patient_id)
            except NotFound:
                raise NotFound(
                    f"Patient {patient_id} not found.",
                    {"parameter": "parameters.patient_id", "value": patient_id},
                ) from None

    def new(self, kind: str, fmt: str, params: dict[str, Any]) -> dict[str, Any]:
        """The view of a just-accepted report."""
        report_id = self.store.ids.new("rpt")
        self_link = f"/v1/reports/{report_id}"
        return {
            "id": report_id,
            "type": kind,
            "format": fmt,
            "status": "pending",
            "parameters": dict(params),
            "created_at": iso(self.clock()),
            "completed_at": None,
            "error": None,
            "links": {"self": self_link, "download": f"{self_link}/download"},
        }

    async def submit(self, client_id: str, report: dict[str, Any]) -> None:
        """Store ``report`` as pending and queue its job in one step; 409 past the quota."""
        cap = self.settings.quota_reports
        job = stamped({"client_id": client_id, "report_id": report["id"]})
        try:
            held = await self.reports.add(client_id, report, cap, job)
        except QueueClosed:
            raise ServiceUnavailable(
                "The sandbox is shutting down; nothing was changed.", retry_after=RETRY_AFTER
            ) from None
        if held is not None:
            raise quotas.exceeded("reports", cap, held)

    async def get(self, client_id: str, report_id: str) -> dict[str, Any] | None:
        return await self.reports.get(client_id, report_id)

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        """Every report of the client, oldest first."""
        return await self.reports.all(client_id)

    async def file(self, client_id: str, report_id: str) -> bytes | None:
        return await self.reports.file(client_id, report_id)
