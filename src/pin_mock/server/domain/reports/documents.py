"""What a report contains: the ``ReportDocument`` every file format renders.

``summary`` holds the analytics objects, keyed by the endpoint they equal
(``outcomes``, ``population_health``; a ``patient_summary`` adds the
``patient``), computed by the same functions as the analytics endpoints, so a
report never disagrees with them. ``rows`` holds one record per row, as in the
CSV: trend periods, population groups, or the patient's entries flattened.

Sandbox convention: ``parameters.patient_id = "patient_report_fails"`` makes
generation fail, so integrators can test ``report.failed`` handling.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pin_mock.server.domain.analytics as analytics
from pin_mock.server.timestamps import iso

if TYPE_CHECKING:
    from pin_mock.server.domain.reports.sources import ReportSources

#: ``parameters.patient_id`` that always makes generation fail (sandbox convention).
FAILING_PATIENT_ID = "patient_report_fails"
#: The trend interval when ``parameters.interval`` is absent (the analytics endpoint's default).
DEFAULT_INTERVAL = "month"


class GenerationFailed(Exception):
    """A report that cannot be built; its message is shown in the report's ``error``."""


async def build_document(
    services: ReportSources, client_id: str, report: dict[str, Any]
) -> dict[str, Any]:
    """The ``ReportDocument`` of ``report``: summary numbers and rows."""
    params = report["parameters"]
    if params.get("patient_id") == FAILING_PATIENT_ID:
        raise GenerationFailed(
            f"Report generation failed for parameters.patient_id {FAILING_PATIENT_ID}."
        )
    kind = report["type"]
    outcomes = await outcomes_for(services, client_id, params)
    summary: dict[str, Any] = {"outcomes": outcomes}
    if kind == "outcomes":
        rows = [dict(period) for period in outcomes["trend"]]
    elif kind == "population_health":
        population = await population_for(services, client_id)
        summary["population_health"] = population
        rows = population_rows(population)
    else:
        patient = await services.store.get_patient(client_id, params["patient_id"])
        summary["patient"] = {
            k: patient[k] for k in ("id", "name", "date_of_birth", "gender", "created_at")
        }
        codes = services.store.seed.codes
        names = codes.display_names() if codes is not None else {}
        entries = await entries_in_range(services, client_id, params)
        rows = [entry_row(e, names) for e in entries]
    return {
        "report_id": report["id"],
        "type": kind,
        "generated_at": iso(services.clock()),
        "parameters": dict(params),
        "summary": summary,
        "rows": rows,
    }


async def outcomes_for(
    services: ReportSources, client_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """``GET /v1/analytics/outcomes`` for the report's parameters (``interval``: week, month)."""
    return await analytics.outcomes(
        services.store,
        client_id,
        start_date=params.get("start_date"),
        end_date=params.get("end_date"),
        patient_id=params.get("patient_id"),
        interval=params.get("interval") or DEFAULT_INTERVAL,
    )


async def population_for(services: ReportSources, client_id: str) -> dict[str, Any]:
    """``GET /v1/analytics/population-health``."""
    return await analytics.population_health(services.store, client_id, today=services.today())


async def entries_in_range(
    services: ReportSources, client_id: str, params: dict
) -> list[dict[str, Any]]:
    """The patient's entries whose day lies in the report's range."""
    start, end = params.get("start_date"), params.get("end_date")
    return [
        e
        for e in await services.store.entries(client_id, params["patient_id"])
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


def human(name: str, names: dict[str, str] | None = None) -> str:
    """A measure's name as a person reads it: the code table's, else ``snake_case`` in words."""
    if names and name in names:
        return names[name]
    if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", name):
        words = name.replace("_", " ")
        return words[0].upper() + words[1:]
    return name


def entry_row(entry: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """A clinical entry flattened into the columns a spreadsheet can hold.

    ``names``: the human name of each vital sign's API name (``heart_rate``: Heart
    rate); the row carries the human name, the code column the LOINC code.
    """
    v, kind = entry["value"], entry["data_type"]
    code = name = unit = ""
    value: Any = ""
    details: list[str] = []
    if kind == "pain_scores":
        code, name, value, unit = "72514-3", "Pain severity (NRS)", v["score"], "0-10"
        details = [human(v.get("location", "")), v.get("notes", "")]
    elif kind == "medications":
        code, name, value = v.get("rxnorm_code", ""), v["name"], v["dose"]
        period = f"{v.get('start_date') or ''}..{v.get('end_date') or ''}".strip(".")
        details = [v["frequency"], v.get("route", ""), period]
    elif kind in ("vitals", "lab_results"):
        code, name, value, unit = (
            v.get("loinc_code", ""),
            human(v["name"], names),
            v["value"],
            v["unit"],
        )
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
