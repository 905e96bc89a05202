"""Background report jobs and the files they produce.

A report is stored at once as ``pending`` (so ``GET /v1/reports/{id}`` never
404s), then a task moves it along::

    pending --report_delay/2--> processing --report_delay/2--> build
        build ok    -> completed (+ file)  -> emit report.completed
        build fails -> failed (+ error)    -> emit report.failed

The numbers come from ``pin_mock.server.analytics`` (the same functions as the
analytics endpoints), read on the event loop; only rendering the file (CSV,
JSON, PDF with fpdf2) runs in a thread. Every format renders one
``ReportDocument``: ``summary`` holds the analytics objects, keyed by the
endpoint they equal (``outcomes``, ``population_health``), and ``rows`` one
record per row, as in the CSV.

Sandbox convention: ``parameters.patient_id = "patient_report_fails"`` makes
generation fail, so integrators can test ``report.failed`` handling.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from pin_mock.server.errors import InvalidParameter, NotFound
from pin_mock.server.timestamps import iso
from pin_mock.server.validation import check_date_range

if TYPE_CHECKING:  # services imports this module to install it
    from pin_mock.server.services import Services

logger = logging.getLogger("pin_mock.server.reports")

#: ``parameters.patient_id`` that always makes generation fail (sandbox convention).
FAILING_PATIENT_ID = "patient_report_fails"
#: The trend interval of reports (the analytics endpoint's default).
INTERVAL = "month"
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
COLUMNS = {
    "outcomes": ("period_start", "mean_pain_score", "count"),
    "population_health": ("group", "key", "label", "patients", "share"),
    "patient_summary": (
        "entry_id",
        "recorded_at",
        "data_type",
        "code",
        "name",
        "value",
        "unit",
        "details",
    ),
}
TITLES = {
    "patient_summary": "Patient summary",
    "outcomes": "Patient outcomes",
    "population_health": "Population health",
}


class GenerationFailed(Exception):
    """A report that cannot be built; its message is shown in the report's ``error``."""


@dataclass
class StoredReport:
    """A report as the API shows it (``view``) and, once completed, its file."""

    view: dict[str, Any]
    content: bytes | None = None


# -- creation --------------------------------------------------------------------


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
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self) -> None:
        self._closed = False

    async def aclose(self) -> None:
        """Stop unfinished jobs; their reports fail with ``SANDBOX_SHUTDOWN``."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

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
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
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


# -- the document ----------------------------------------------------------------


def build_document(services: Services, client_id: str, report: dict[str, Any]) -> dict[str, Any]:
    """The ``ReportDocument`` of ``report``: summary numbers and rows."""
    params = report["parameters"]
    if params.get("patient_id") == FAILING_PATIENT_ID:
        raise GenerationFailed(
            f"Sandbox: parameters.patient_id {FAILING_PATIENT_ID} always makes a report fail."
        )
    kind = report["type"]
    outcomes = outcomes_for(services, client_id, params)
    summary: dict[str, Any] = {"outcomes": outcomes}
    if kind == "outcomes":
        rows = [dict(period) for period in outcomes["trend"]]
    elif kind == "population_health":
        population = population_for(services, client_id)
        summary["population_health"] = population
        rows = population_rows(population)
    else:
        patient = services.store.get_patient(client_id, params["patient_id"])
        summary["patient"] = {
            k: patient[k] for k in ("id", "name", "date_of_birth", "gender", "created_at")
        }
        rows = [entry_row(e) for e in entries_in_range(services, client_id, params)]
    return {
        "report_id": report["id"],
        "type": kind,
        "generated_at": iso(services.clock()),
        "parameters": dict(params),
        "summary": summary,
        "rows": rows,
    }


def outcomes_for(services: Services, client_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """``GET /v1/analytics/outcomes`` for the report's parameters (monthly trend)."""
    from pin_mock.server import analytics

    return analytics.outcomes(
        services.store,
        client_id,
        start_date=params.get("start_date"),
        end_date=params.get("end_date"),
        patient_id=params.get("patient_id"),
        interval=INTERVAL,
    )


def population_for(services: Services, client_id: str) -> dict[str, Any]:
    """``GET /v1/analytics/population-health``."""
    from pin_mock.server import analytics

    return analytics.population_health(services.store, client_id, today=services.today())


def entries_in_range(services: Services, client_id: str, params: dict) -> list[dict[str, Any]]:
    """The patient's entries whose day lies in the report's range."""
    start, end = params.get("start_date"), params.get("end_date")
    return [
        e
        for e in services.store.entries(client_id, params["patient_id"])
        if (start is None or e["recorded_at"][:10] >= start)
        and (end is None or e["recorded_at"][:10] <= end)
    ]


def population_rows(population: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per counted group: gender, age band, diagnosis, medication."""
    total = population["total_patients"]

    def share(n: int) -> float | None:
        return round(n / total, 4) if total else None

    rows = [
        {"group": "gender", "key": g, "label": g, "patients": n, "share": share(n)}
        for g, n in population["by_gender"].items()
    ]
    rows += [
        {
            "group": "age_band",
            "key": b["band"],
            "label": b["band"],
            "patients": b["patients"],
            "share": share(b["patients"]),
        }
        for b in population["by_age_band"]
    ]
    rows += [
        {
            "group": "diagnosis",
            "key": d["icd10_code"],
            "label": d["display"],
            "patients": d["patients"],
            "share": d["prevalence"],
        }
        for d in population["top_diagnoses"]
    ]
    rows += [
        {
            "group": "medication",
            "key": m["rxnorm_code"] or "",
            "label": m["name"],
            "patients": m["patients"],
            "share": share(m["patients"]),
        }
        for m in population["top_medications"]
    ]
    return rows


def entry_row(entry: dict[str, Any]) -> dict[str, Any]:
    """A clinical entry flattened into the columns a spreadsheet can hold."""
    v, kind = entry["value"], entry["data_type"]
    code = name = unit = ""
    value: Any = ""
    details: list[str] = []
    if kind == "pain_scores":
        code, name, value, unit = "72514-3", "Pain severity (NRS)", v["score"], "0-10"
        details = [v.get("location", ""), v.get("notes", "")]
    elif kind == "medications":
        code, name, value = v.get("rxnorm_code", ""), v["name"], v["dose"]
        period = f"{v.get('start_date') or ''}..{v.get('end_date') or ''}".strip(".")
        details = [v["frequency"], v.get("route", ""), period]
    elif kind in ("vitals", "lab_results"):
        code, name, value, unit = v.get("loinc_code", ""), v["name"], v["value"], v["unit"]
        if v.get("flag"):
            details = [f"flag {v['flag']}"]
    elif kind == "diagnoses":
        code, name, value = v["icd10_code"], v["display"], v.get("status", "active")
    else:
        code, name = v.get("code", ""), v["name"]
        details = [v.get("body_site", "")]
    return {
        "entry_id": entry["id"],
        "recorded_at": entry["recorded_at"],
        "data_type": kind,
        "code": code or "",
        "name": name,
        "value": value,
        "unit": unit,
        "details": "; ".join(d for d in details if d),
    }


# -- the files -------------------------------------------------------------------


def render(fmt: str, document: dict[str, Any]) -> bytes:
    """The file of ``document`` in ``fmt``."""
    if fmt == "json":
        return orjson.dumps(document, option=orjson.OPT_INDENT_2)
    if fmt == "csv":
        return render_csv(document["rows"], COLUMNS[document["type"]])
    from pin_mock.server.report_pdf import render_pdf  # fpdf2 is imported only when needed

    return render_pdf(document, TITLES[document["type"]], COLUMNS[document["type"]])


def render_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    """RFC 4180 CSV in UTF-8 (no BOM): a header row, then one row per record."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    """Empty for null; text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def filename(view: dict[str, Any]) -> str:
    """``rpt_1a2b3c4d5e6f.pdf``."""
    return f"{view['id']}.{view['format']}"
