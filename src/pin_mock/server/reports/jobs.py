"""A report's life: checked, accepted as ``pending``, generated in the background.

A report is stored at once as ``pending`` (so ``GET /v1/reports/{id}`` never
404s), then a task moves it along::

    pending --report_delay/2--> processing --report_delay/2--> build
        build ok    -> completed (+ file)  -> emit report.completed
        build fails -> failed (+ error)    -> emit report.failed

The document is built on the event loop (it reads the store, which is not
thread-safe); only rendering the file runs in a thread. On shutdown, unfinished
reports fail with ``SANDBOX_SHUTDOWN`` and no event is sent; each is logged as
one WARNING line on ``pin_mock.reports``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pin_mock.server.errors import InvalidParameter, NotFound
from pin_mock.server.reports.documents import FAILING_PATIENT_ID, GenerationFailed, build_document
from pin_mock.server.reports.files import render
from pin_mock.server.timestamps import iso
from pin_mock.server.validation import check_date_range

if TYPE_CHECKING:  # services imports this package to install it
    from pin_mock.server.services import Services

logger = logging.getLogger("pin_mock.reports")


@dataclass
class StoredReport:
    """A report as the API shows it (``view``) and, once completed, its file."""

    view: dict[str, Any]
    content: bytes | None = None


# -- accepting a report ----------------------------------------------------------


def check_parameters(services: Services, client_id: str, kind: str, params: dict) -> None:
    """400 for parameters that cannot make this kind of report, 404 for an unknown patient."""
    check_date_range(params.get("start_date"), params.get("end_date"), prefix="parameters.")
    patient_id = params.get("patient_id")
    if kind == "patient_summary" and not patient_id:
        raise InvalidParameter(
            "parameters.patient_id", None, "A patient_summary report needs parameters.patient_id."
        )
    if kind == "population_health" and patient_id:
        raise InvalidParameter(
            "parameters.patient_id",
            patient_id,
            "A population_health report covers every patient; patient_id is not allowed.",
        )
    if patient_id and patient_id != FAILING_PATIENT_ID:
        try:
            services.store.get_patient(client_id, patient_id)
        except NotFound:
            raise NotFound(
                f"Patient {patient_id} not found.",
                {"parameter": "parameters.patient_id", "value": patient_id},
            ) from None


def new_report(services: Services, kind: str, fmt: str, params: dict) -> dict[str, Any]:
    """The view of a just-accepted report."""
    report_id = services.store.ids.new("rpt")
    self_link = f"/v1/reports/{report_id}"
    return {
        "id": report_id,
        "type": kind,
        "format": fmt,
        "status": "pending",
        "parameters": dict(params),
        "created_at": iso(services.clock()),
        "completed_at": None,
        "error": None,
        "links": {"self": self_link, "download": f"{self_link}/download"},
    }


# -- the jobs --------------------------------------------------------------------


class ReportJobs:
    """Runs report generation in the background; a worker in ``services.workers``."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._tasks: dict[asyncio.Task[None], tuple[str, StoredReport]] = {}

    async def start(self) -> None:
        """Nothing to set up: jobs start on ``submit`` (the lifespan calls every worker)."""

    async def aclose(self) -> None:
        """Stop unfinished jobs; their reports fail with ``SANDBOX_SHUTDOWN``."""
        jobs = dict(self._tasks)
        for task in jobs:
            task.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        for client_id, stored in jobs.values():
            # A task cancelled before its first step never ran its own handler.
            if stored.view["status"] in ("pending", "processing"):
                self._finish(client_id, stored, "SANDBOX_SHUTDOWN", "The sandbox shut down.")

    async def drain(self) -> None:
        """Wait until no job is running (for tests and tools)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def submit(self, client_id: str, report: dict[str, Any]) -> StoredReport:
        """Store ``report`` as pending and start generating it."""
        stored = StoredReport(report)
        self.services.store.tenant(client_id).reports[report["id"]] = stored
        task = asyncio.get_running_loop().create_task(
            self._run(client_id, stored), name=f"report {report['id']}"
        )
        self._tasks[task] = (client_id, stored)
        task.add_done_callback(lambda done: self._tasks.pop(done, None))
        return stored

    async def _run(self, client_id: str, stored: StoredReport) -> None:
        view = stored.view
        delay = self.services.settings.report_delay
        try:
            await asyncio.sleep(delay / 2)
            view["status"] = "processing"
            await asyncio.sleep(delay / 2)
            document = build_document(self.services, client_id, view)
            stored.content = await asyncio.to_thread(render, view["format"], document)
        except asyncio.CancelledError:
            self._finish(client_id, stored, "SANDBOX_SHUTDOWN", "The sandbox shut down.")
            raise
        except GenerationFailed as exc:
            self._finish(client_id, stored, "REPORT_GENERATION_FAILED", str(exc))
        except Exception:
            logger.exception("report %s could not be built", view["id"])
            self._finish(
                client_id, stored, "REPORT_GENERATION_FAILED", "The report could not be built."
            )
        else:
            self._finish(client_id, stored)

    def _finish(
        self, client_id: str, stored: StoredReport, code: str | None = None, message: str = ""
    ) -> None:
        view = stored.view
        view["status"] = "failed" if code else "completed"
        view["completed_at"] = iso(self.services.clock())
        view["error"] = {"code": code, "message": message} if code else None
        if code == "SANDBOX_SHUTDOWN":
            logger.warning(
                "report %s (%s, %s) abandoned at shutdown",
                view["id"],
                view["type"],
                view["format"],
                extra={"client_id": client_id, "report_id": view["id"], "outcome": "abandoned"},
            )
            return  # nobody is left to tell
        self.services.emit(
            client_id,
            f"report.{view['status']}",
            {"report_id": view["id"], "status": view["status"], "links": dict(view["links"])},
        )


def install(services: Services) -> ReportJobs:
    """Run report jobs with the app's lifespan."""
    jobs = ReportJobs(services)
    services.workers.append(jobs)
    return jobs


def jobs_of(services: Services) -> ReportJobs:
    """The installed report jobs (``install`` must have run)."""
    for worker in services.workers:
        if isinstance(worker, ReportJobs):
            return worker
    raise RuntimeError("pin_mock.server.reports.install(services) was not called")
