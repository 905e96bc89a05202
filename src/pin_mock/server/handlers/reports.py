"""Reports: create (202, generated in the background), list, status, download."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.reports.files import MEDIA_TYPES, filename
from pin_mock.server.domain.reports.service import Reports
from pin_mock.server.errors import Conflict, NotFound
from pin_mock.server.handlers.responses import created, page_of


async def _view(reports: Reports, caller: Caller, report_id: str) -> dict[str, Any]:
    view = await reports.get(caller.client_id, report_id)
    if view is None:
        raise NotFound.resource("Report", "report_id", report_id)
    return view


async def list_reports(
    reports: Reports, caller: Caller, page: int = 1, limit: int = 50, status: str | None = None
) -> dict:
    """GET /v1/reports: oldest first, optionally one status."""
    views = await reports.all(caller.client_id)
    return page_of(
        [v for v in views if status is None or v["status"] == status], page=page, limit=limit
    )


async def create_report(
    reports: Reports, caller: Caller, body: dict[str, Any]
) -> tuple[Any, int, dict]:
    """POST /v1/reports: 202 with the pending report and its Location."""
    params = body.get("parameters") or {}
    await reports.check(caller.client_id, body["type"], params)
    report = reports.new(body["type"], body["format"], params)
    # The quota is checked and the report stored in one step (on every worker at once).
    await reports.submit(caller.client_id, report)
    return created(report, report["links"]["self"], status=202)


async def get_report(reports: Reports, caller: Caller, report_id: str) -> dict[str, Any]:
    """GET /v1/reports/{report_id}: the status, available at once after creation."""
    return await _view(reports, caller, report_id)


#: The media type of the file's bytes as such, for clients that take every format alike.
BINARY = "application/octet-stream"


def _media_type(own: str, accept: str | None) -> str:
    """The format's own media type, or ``BINARY`` when Accept asks for it and not the own type."""
    wanted = {
        part.split(";")[0].strip().lower()
        for part in (accept or "").split(",")
        if "q=0" not in part.replace(" ", "").split(";", 1)[-1] or "q=0." in part
    }
    return BINARY if BINARY in wanted and own.split(";")[0] not in wanted else own


async def download_report(
    reports: Reports, caller: Caller, report_id: str, accept: str | None = None
) -> Response:
    """GET /v1/reports/{report_id}/download: the file, or 409 until it is completed."""
    view = await _view(reports, caller, report_id)
    content = None
    if view["status"] == "completed":
        content = await reports.file(caller.client_id, report_id)
    if content is None:
        if view["status"] == "failed":
            message = f"Report {report_id} failed ({view['error']['message']}); it has no file."
        else:
            message = f"Report {report_id} is {view['status']}; try again when it is completed."
        raise Conflict(
            message, {"report_id": report_id, "status": view["status"]}, code="REPORT_NOT_READY"
        )
    return Response(
        content,
        media_type=_media_type(MEDIA_TYPES[view["format"]], accept),
        headers={"Content-Disposition": f'attachment; filename="{filename(view)}"'},
    )
