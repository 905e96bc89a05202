"""Reports: create (202, generated in the background), list, status, download."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

import pin_mock.server.quotas as quotas
from pin_mock.server.callers import Caller
from pin_mock.server.errors import Conflict, NotFound
from pin_mock.server.handlers._http import created, page_of
from pin_mock.server.reports.files import MEDIA_TYPES, filename
from pin_mock.server.reports.jobs import StoredReport, check_parameters, jobs_of, new_report
from pin_mock.server.services import Services


def _stored(services: Services, caller: Caller, report_id: str) -> StoredReport:
    stored = services.store.tenant(caller.client_id).reports.get(report_id)
    if stored is None:
        raise NotFound.resource("Report", "report_id", report_id)
    return stored


async def list_reports(
    services: Services, caller: Caller, page: int = 1, limit: int = 50, status: str | None = None
) -> dict:
    """GET /v1/reports: oldest first, optionally one status."""
    stored = services.store.tenant(caller.client_id).reports.values()
    views = [s.view for s in stored if status is None or s.view["status"] == status]
    return page_of(views, page=page, limit=limit)


async def create_report(
    services: Services, caller: Caller, body: dict[str, Any]
) -> tuple[Any, int, dict]:
    """POST /v1/reports: 202 with the pending report and its Location."""
    params = body.get("parameters") or {}
    check_parameters(services, caller.client_id, body["type"], params)
    quotas.check(services.settings, services.store.tenant(caller.client_id), "reports")
    report = new_report(services, body["type"], body["format"], params)
    jobs_of(services).submit(caller.client_id, report)
    return created(report, report["links"]["self"], status=202)


async def get_report(services: Services, caller: Caller, report_id: str) -> dict[str, Any]:
    """GET /v1/reports/{report_id}: the status, available at once after creation."""
    return _stored(services, caller, report_id).view


async def download_report(services: Services, caller: Caller, report_id: str) -> Response:
    """GET /v1/reports/{report_id}/download: the file, or 409 until it is completed."""
    stored = _stored(services, caller, report_id)
    view = stored.view
    if view["status"] != "completed" or stored.content is None:
        if view["status"] == "failed":
            message = f"Report {report_id} failed ({view['error']['message']}); it has no file."
        else:
            message = f"Report {report_id} is {view['status']}; try again when it is completed."
        raise Conflict(
            message, {"report_id": report_id, "status": view["status"]}, code="REPORT_NOT_READY"
        )
    return Response(
        stored.content,
        media_type=MEDIA_TYPES[view["format"]],
        headers={"Content-Disposition": f'attachment; filename="{filename(view)}"'},
    )
