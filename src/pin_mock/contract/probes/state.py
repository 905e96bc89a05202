"""State probes: what is created can be read and is listed; what is deleted is gone.

Also the properties random inputs rarely prove: a filter that must exclude an
entry, a search that must find a new patient in any letter case, pages that
do not overlap, and a rate-limit counter that counts. Every request body is
the spec's documented example for the operation (``ctx.body``), with a marker
of the run where a value must be unique.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from pin_mock.contract.exchange import Exchange, shown
from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of

CREATED = "pin_created_readable"
LISTED = "pin_created_listed"
GONE = "pin_deleted_gone"
FILTERS = "pin_filters_exclude"
PAGES = "pin_paging_walk"
SEARCH_CASE = "pin_search_case"
COUNTING = "pin_rate_limit_counting"

#: The page size when none is documented (the spec's ``maximum`` of ``limit`` wins).
FALLBACK_PAGE = 100


def _ids(ex: Exchange) -> list[str]:
    data = body_of(ex).get("data")
    return (
        [str(item.get("id")) for item in data if isinstance(item, dict)]
        if isinstance(data, list)
        else []
    )


def entry_body(ctx: ProbeContext, **overrides: Any) -> dict[str, Any]:
    """The spec's documented clinical-data entry (its type and its time are the spec's)."""
    return ctx.body("addClinicalData", **overrides)


def _read_back(ctx: ProbeContext, created: Exchange, operation_id: str, params: dict) -> Exchange:
    """GET the created resource at its ``Location``; it must be the same resource."""
    body = body_of(created)
    location = created.header("location")
    ctx.require(bool(location), CREATED, f"{created.status} without a Location header", created)
    ex = ctx.send("GET", operation_id, location, path_params=params)
    ctx.require(
        ex.status == 200,
        CREATED,
        f"GET {location} (the Location of a created resource) answered {ex.status}",
        ex,
    )
    ctx.expect(
        body_of(ex).get("id") == body.get("id"),
        CREATED,
        f"GET {location} returned id {shown(body_of(ex).get('id'))}, created {shown(body.get('id'))}",
        ex,
    )
    return ex


def _listed(
    ctx: ProbeContext,
    operation_id: str,
    wanted: str,
    path_params: dict | None = None,
    **params: Any,
) -> tuple[bool, Exchange]:
    """Whether ``wanted`` is listed, looking at the last pages first (lists are newest last)."""
    op = ctx.op(operation_id)
    size = op.query_maximum("limit") or FALLBACK_PAGE
    first = ctx.call(operation_id, path_params, params={**params, "limit": size})
    if wanted in _ids(first):
        return True, first
    total = body_of(first).get("pagination", {}).get("total")
    pages = math.ceil(total / size) if isinstance(total, int) else 1
    for page in range(pages, max(1, pages - 4), -1):
        ex = ctx.call(operation_id, path_params, params={**params, "limit": size, "page": page})
        if wanted in _ids(ex):
            return True, ex
    return False, first


def patient_body(ctx: ProbeContext, marker: str = "Probe") -> dict[str, Any]:
    """The spec's documented new patient, its name marked with the run (to find it again)."""
    body = ctx.body("createPatient")
    if isinstance(body.get("name"), str):
        body["name"] = f"{body['name']} {marker}{ctx.run_id.upper()}"
    return body


def _patient(ctx: ProbeContext) -> dict[str, Any]:
    """A patient created by this run (shared between probes): the documented one, renamed."""
    if "patient" not in ctx.shared:
        ex = ctx.call("createPatient", json=patient_body(ctx))
        ctx.require(
            ex.status == 201,
            CREATED,
            f"{ex.method} {ex.template} with a valid body answered {ex.status}",
            ex,
        )
        ctx.shared["patient"] = body_of(ex)
        ctx.shared["patient_created"] = ex
    return ctx.shared["patient"]


def patient_lifecycle(ctx: ProbeContext) -> None:
    patient = _patient(ctx)
    pid = patient.get("id", "")
    _read_back(ctx, ctx.shared["patient_created"], "getPatient", {"patient_id": pid})
    for term in (f"probe{ctx.run_id.lower()}", f"PROBE{ctx.run_id.upper()}", pid):
        found, ex = _listed(ctx, "listPatients", pid, search=term)
        ctx.expect(found, LISTED, f"created patient {pid} is not listed for search={term}", ex)
    ex = ctx.call("listPatients", params={"search": f"no-such-patient-{ctx.run_id}"})
    ctx.expect(_ids(ex) == [] and body_of(ex).get("pagination", {}).get("total") == 0, FILTERS,
               "a search that matches nobody listed patients", ex)  # fmt: skip


def search_any_case(ctx: ProbeContext) -> None:
    """A patient the list shows is found by its name in upper and in lower case (no write needed)."""
    listing = ctx.call("listPatients", params={"limit": 10})
    data = body_of(listing).get("data")
    named = (
        [p for p in data if isinstance(p, dict) and isinstance(p.get("name"), str)]
        if isinstance(data, list)
        else []
    )
    patient = next((p for p in named if p["name"].upper() != p["name"].lower()), None)
    if patient is None:
        return  # nothing listed with letters in its name: nothing to compare
    word = max(patient["name"].split(), key=len)
    for term in (word.upper(), word.lower(), word.swapcase()):
        found, ex = _listed(ctx, "listPatients", str(patient.get("id")), search=term)
        ctx.expect(found, SEARCH_CASE,
                   f"patient {patient.get('id')} ({shown(patient['name'])}) is not listed for search={term}", ex)  # fmt: skip


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def entry_lifecycle(ctx: ProbeContext) -> None:
    pid = _patient(ctx).get("id", "")
    body = entry_body(ctx)
    owner = {"patient_id": pid}
    created = ctx.call("addClinicalData", owner, json=body)
    ctx.require(
        created.status == 201,
        CREATED,
        f"{created.method} {created.path} with the documented entry answered {created.status}",
        created,
    )
    eid = body_of(created).get("id", "")
    _read_back(ctx, created, "getClinicalDataEntry", {**owner, "entry_id": eid})
    day, kind = _day(body.get("recorded_at")), body.get("data_type")
    if day is None:
        return
    expectations = [
        ({}, True), ({"data_type": kind, "start_date": str(day), "end_date": str(day)}, True),
        ({"start_date": str(day + timedelta(days=1))}, False), ({"end_date": str(day - timedelta(days=1))}, False),
    ]  # fmt: skip
    others = sorted(ctx.op("listClinicalData").query_enum("data_type") - {kind})
    if others:  # another documented type must exclude the entry
        expectations.append(({"data_type": others[0]}, False))
    for params, included in expectations:
        ex = ctx.call("listClinicalData", owner, params=params)
        ctx.expect(
            ex.status == 200,
            FILTERS,
            f"GET {ex.path} with {shown(params)} answered {ex.status}",
            ex,
        )
        check, verb = (LISTED, "is not listed") if included else (FILTERS, "is listed")
        ctx.expect(
            (eid in _ids(ex)) == included,
            check,
            f"entry {eid} recorded {body.get('recorded_at')} {verb} for {shown(params) if params else 'no filter'}",
            ex,
        )
    backwards = {"start_date": str(day + timedelta(days=1)), "end_date": str(day)}
    ex = ctx.call("listClinicalData", owner, params=backwards)
    ctx.expect(
        ex.status == 400,
        FILTERS,
        f"start_date after end_date answered {ex.status}, the spec says 400",
        ex,
    )


def report_lifecycle(ctx: ProbeContext) -> None:
    created = ctx.call("createReport", json=ctx.body("createReport"))
    ctx.require(
        created.status == 202,
        CREATED,
        f"{created.method} {created.path} with the documented body answered {created.status}",
        created,
    )
    rid = body_of(created).get("id", "")
    _read_back(ctx, created, "getReport", {"report_id": rid})
    found, ex = _listed(ctx, "listReports", rid)
    ctx.expect(found, LISTED, f"created report {rid} is not listed in {ex.method} {ex.path}", ex)


def webhook_lifecycle(ctx: ProbeContext) -> None:
    body = ctx.body("createWebhook", description=f"probe {ctx.run_id}")
    created = ctx.call("createWebhook", json=body)
    ctx.require(
        created.status == 201,
        CREATED,
        f"{created.method} {created.path} with the documented body answered {created.status}",
        created,
    )
    wid = body_of(created).get("id", "")
    ctx.expect(
        str(body_of(created).get("secret", "")).startswith("whsec_"),
        CREATED,
        "a new webhook's answer lacks its whsec_ secret",
        created,
    )
    hook = {"webhook_id": wid}
    _read_back(ctx, created, "getWebhook", hook)
    found, ex = _listed(ctx, "listWebhooks", wid)
    ctx.expect(found, LISTED, f"created webhook {wid} is not listed in {ex.method} {ex.path}", ex)
    ex = ctx.call("deleteWebhook", hook)
    ctx.require(ex.status == 204, GONE, f"DELETE {ex.path} answered {ex.status} instead of 204", ex)
    ex = ctx.call("getWebhook", hook)
    ctx.expect(
        ex.status == 404,
        GONE,
        f"GET {ex.path} after DELETE answered {ex.status} instead of 404",
        ex,
    )
    found, ex = _listed(ctx, "listWebhooks", wid)
    ctx.expect(not found, GONE, f"deleted webhook {wid} is still listed", ex)
    ex = ctx.call("deleteWebhook", hook)
    ctx.expect(
        ex.status == 404, GONE, f"a second DELETE {ex.path} answered {ex.status} instead of 404", ex
    )


def paging_walk(ctx: ProbeContext) -> None:
    """Pages do not overlap, agree with a larger page, and the page past the end is empty."""
    get = lambda **p: ctx.call("listPatients", params=p)  # noqa: E731
    pages = [get(limit=10, page=n) for n in (1, 2, 3)]
    wide = get(limit=20, page=1)
    total = body_of(pages[0]).get("pagination", {}).get("total")
    ctx.require(
        isinstance(total, int), PAGES, f"{pages[0].path} has no integer pagination.total", pages[0]
    )
    seen: set[str] = set()
    for ex in pages:
        ctx.expect(
            not (seen & set(_ids(ex))), PAGES, f"consecutive pages of {ex.path} share items", ex
        )
        seen |= set(_ids(ex))
    ctx.expect(_ids(wide) == _ids(pages[0]) + _ids(pages[1]), PAGES,
               "page 1 of limit 20 differs from pages 1 and 2 of limit 10", wide)  # fmt: skip
    last = max(1, math.ceil(total / 10))
    end = get(limit=10, page=last + 1)
    ctx.expect(_ids(end) == [] and body_of(end).get("pagination", {}).get("total") == total, PAGES,
               f"page {last + 1} (past the end of {total}) is not an empty page with the same total", end)  # fmt: skip


def rate_limit_counting(ctx: ProbeContext) -> None:
    """Three requests in a row: within one window, Remaining goes down with each."""
    answers = [ctx.call("listPatients", params={"limit": 1}) for _ in range(3)]
    try:
        values = [
            (
                int(ex.header("x-ratelimit-reset") or ""),
                int(ex.header("x-ratelimit-remaining") or ""),
            )
            for ex in answers
        ]
    except ValueError:
        return  # malformed headers are already the ambient rule's finding
    if len({reset for reset, _ in values}) != 1:
        return  # a window ended in between: nothing to compare
    remaining = [r for _, r in values]
    ctx.expect(remaining[2] < remaining[1] < remaining[0] or remaining[0] == 0, COUNTING,
               f"X-RateLimit-Remaining did not go down over three requests: {remaining}", answers[-1])  # fmt: skip


STATE_PROBES = [
    Probe("rate-limit counter counts", ("listPatients",), rate_limit_counting, (COUNTING,)),
    Probe("paging walk over patients", ("listPatients",), paging_walk, (PAGES,)),
    Probe(
        "search finds a listed patient in any letter case",
        ("listPatients",),
        search_any_case,
        (SEARCH_CASE,),
    ),
    Probe(
        "created patient is readable and searchable",
        ("createPatient", "getPatient", "listPatients"),
        patient_lifecycle,
        (CREATED, LISTED, FILTERS),
    ),
    Probe(
        "created entry is readable; date and type filters exclude",
        ("createPatient", "addClinicalData", "getClinicalDataEntry", "listClinicalData"),
        entry_lifecycle,
        (CREATED, LISTED, FILTERS),
    ),
    Probe(
        "created report is readable and listed",
        ("createReport", "getReport", "listReports"),
        report_lifecycle,
        (CREATED, LISTED),
    ),
    Probe(
        "webhook lifecycle: created, listed, deleted, gone",
        ("createWebhook", "getWebhook", "listWebhooks", "deleteWebhook"),
        webhook_lifecycle,
        (CREATED, LISTED, GONE),
    ),
]
