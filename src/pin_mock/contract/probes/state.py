"""State probes: what is created can be read and is listed; what is deleted is gone.

Also the properties random inputs rarely prove: a filter that must exclude an
entry, a search that must find a new patient in any letter case, pages that
do not overlap, and a rate-limit counter that counts.
"""

from __future__ import annotations

import math
from typing import Any

from pin_mock.contract.exchange import Exchange
from pin_mock.contract.probes.framework import SAFE_URL, Probe, ProbeContext, body_of

CREATED = "pin_created_readable"
LISTED = "pin_created_listed"
GONE = "pin_deleted_gone"
FILTERS = "pin_filters_exclude"
PAGES = "pin_paging_walk"
COUNTING = "pin_rate_limit_counting"

RECORDED_AT = "2024-03-01T09:30:00Z"
#: The type of the entry the entry probe creates; it is filtered against another of the spec's types.
ENTRY_TYPE = "pain_scores"
#: The page size when none is documented (the spec's ``maximum`` of ``limit`` wins).
FALLBACK_PAGE = 100


def _ids(ex: Exchange) -> list[str]:
    data = body_of(ex).get("data")
    return (
        [str(item.get("id")) for item in data if isinstance(item, dict)]
        if isinstance(data, list)
        else []
    )


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
        f"GET {location} returned id {body_of(ex).get('id')!r}, created {body.get('id')!r}",
        ex,
    )
    return ex


def _listed(
    ctx: ProbeContext, operation_id: str, path: str, wanted: str, **params: Any
) -> tuple[bool, Exchange]:
    """Whether ``wanted`` is listed, looking at the last pages first (lists are newest last)."""
    op = ctx.operation(operation_id)
    size = (op.query_maximum("limit") if op else None) or FALLBACK_PAGE
    first = ctx.send("GET", operation_id, path, params={**params, "limit": size})
    if wanted in _ids(first):
        return True, first
    total = body_of(first).get("pagination", {}).get("total")
    pages = math.ceil(total / size) if isinstance(total, int) else 1
    for page in range(pages, max(1, pages - 4), -1):
        ex = ctx.send("GET", operation_id, path, params={**params, "limit": size, "page": page})
        if wanted in _ids(ex):
            return True, ex
    return False, first


def _patient(ctx: ProbeContext) -> dict[str, Any]:
    """A patient created by this run (shared between probes)."""
    if "patient" not in ctx.shared:
        name = f"Probe {ctx.run_id.upper()} Contract"
        body = {
            "name": name,
            "date_of_birth": "1985-05-20",
            "gender": "female",
            "contact": {"email": "probe@example.com"},
        }
        ex = ctx.send("POST", "createPatient", "/v1/patients", json=body)
        ctx.require(
            ex.status == 201,
            CREATED,
            f"POST /v1/patients with a valid body answered {ex.status}",
            ex,
        )
        ctx.shared["patient"] = body_of(ex)
        ctx.shared["patient_created"] = ex
    return ctx.shared["patient"]


def patient_lifecycle(ctx: ProbeContext) -> None:
    patient = _patient(ctx)
    pid = patient.get("id", "")
    _read_back(ctx, ctx.shared["patient_created"], "getPatient", {"patient_id": pid})
    for term in (ctx.run_id.lower(), ctx.run_id.upper(), pid):
        found, ex = _listed(ctx, "listPatients", "/v1/patients", pid, search=term)
        ctx.expect(found, LISTED, f"created patient {pid} is not listed for search={term!r}", ex)
    ex = ctx.send(
        "GET", "listPatients", "/v1/patients", params={"search": f"no-such-patient-{ctx.run_id}"}
    )
    ctx.expect(_ids(ex) == [] and body_of(ex).get("pagination", {}).get("total") == 0, FILTERS,
               "a search that matches nobody listed patients", ex)  # fmt: skip


def entry_lifecycle(ctx: ProbeContext) -> None:
    pid = _patient(ctx).get("id", "")
    path = f"/v1/patients/{pid}/clinical-data"
    body = {
        "data_type": ENTRY_TYPE,
        "recorded_at": RECORDED_AT,
        "value": {"score": 6, "scale": "NRS", "location": "lower_back"},
    }
    created = ctx.send("POST", "addClinicalData", path, json=body, path_params={"patient_id": pid})
    ctx.require(
        created.status == 201,
        CREATED,
        f"POST {path} with a valid entry answered {created.status}",
        created,
    )
    eid = body_of(created).get("id", "")
    _read_back(ctx, created, "getClinicalDataEntry", {"patient_id": pid, "entry_id": eid})
    day = RECORDED_AT[:10]
    expectations = [
        ({}, True), ({"data_type": ENTRY_TYPE, "start_date": day, "end_date": day}, True),
        ({"start_date": "2024-03-02"}, False), ({"end_date": "2024-02-29"}, False),
    ]  # fmt: skip
    listing = ctx.operation("listClinicalData")
    others = sorted((listing.query_enum("data_type") if listing else set()) - {ENTRY_TYPE})
    if others:  # another documented type must exclude the entry
        expectations.append(({"data_type": others[0]}, False))
    for params, included in expectations:
        ex = ctx.send(
            "GET", "listClinicalData", path, params=params, path_params={"patient_id": pid}
        )
        ctx.expect(ex.status == 200, FILTERS, f"GET {path} with {params} answered {ex.status}", ex)
        check, verb = (LISTED, "is not listed") if included else (FILTERS, "is listed")
        ctx.expect(
            (eid in _ids(ex)) == included,
            check,
            f"entry {eid} recorded {RECORDED_AT} {verb} for {params or 'no filter'}",
            ex,
        )
    ex = ctx.send("GET", "listClinicalData", path, params={"start_date": "2024-03-02", "end_date": "2024-03-01"},
                  path_params={"patient_id": pid})  # fmt: skip
    ctx.expect(
        ex.status == 400,
        FILTERS,
        f"start_date after end_date answered {ex.status}, the spec says 400",
        ex,
    )


def report_lifecycle(ctx: ProbeContext) -> None:
    created = ctx.send(
        "POST", "createReport", "/v1/reports", json={"type": "population_health", "format": "json"}
    )
    ctx.require(
        created.status == 202,
        CREATED,
        f"POST /v1/reports with a valid body answered {created.status}",
        created,
    )
    rid = body_of(created).get("id", "")
    _read_back(ctx, created, "getReport", {"report_id": rid})
    found, ex = _listed(ctx, "listReports", "/v1/reports", rid)
    ctx.expect(found, LISTED, f"created report {rid} is not listed in GET /v1/reports", ex)


def webhook_lifecycle(ctx: ProbeContext) -> None:
    body = {
        "url": SAFE_URL,
        "events": ["report.failed"],
        "description": f"probe {ctx.run_id}",
    }
    created = ctx.send("POST", "createWebhook", "/v1/webhooks", json=body)
    ctx.require(
        created.status == 201,
        CREATED,
        f"POST /v1/webhooks with a valid body answered {created.status}",
        created,
    )
    wid = body_of(created).get("id", "")
    ctx.expect(
        str(body_of(created).get("secret", "")).startswith("whsec_"),
        CREATED,
        "a new webhook's answer lacks its whsec_ secret",
        created,
    )
    _read_back(ctx, created, "getWebhook", {"webhook_id": wid})
    found, ex = _listed(ctx, "listWebhooks", "/v1/webhooks", wid)
    ctx.expect(found, LISTED, f"created webhook {wid} is not listed in GET /v1/webhooks", ex)
    item = f"/v1/webhooks/{wid}"
    ex = ctx.send("DELETE", "deleteWebhook", item, path_params={"webhook_id": wid})
    ctx.require(ex.status == 204, GONE, f"DELETE {item} answered {ex.status} instead of 204", ex)
    ex = ctx.send("GET", "getWebhook", item, path_params={"webhook_id": wid})
    ctx.expect(
        ex.status == 404, GONE, f"GET {item} after DELETE answered {ex.status} instead of 404", ex
    )
    found, ex = _listed(ctx, "listWebhooks", "/v1/webhooks", wid)
    ctx.expect(not found, GONE, f"deleted webhook {wid} is still listed", ex)
    ex = ctx.send("DELETE", "deleteWebhook", item, path_params={"webhook_id": wid})
    ctx.expect(
        ex.status == 404, GONE, f"a second DELETE {item} answered {ex.status} instead of 404", ex
    )


def paging_walk(ctx: ProbeContext) -> None:
    """Pages do not overlap, agree with a larger page, and the page past the end is empty."""
    get = lambda **p: ctx.send("GET", "listPatients", "/v1/patients", params=p)  # noqa: E731
    pages = [get(limit=10, page=n) for n in (1, 2, 3)]
    wide = get(limit=20, page=1)
    total = body_of(pages[0]).get("pagination", {}).get("total")
    ctx.require(
        isinstance(total, int), PAGES, "GET /v1/patients has no integer pagination.total", pages[0]
    )
    seen: set[str] = set()
    for ex in pages:
        ctx.expect(
            not (seen & set(_ids(ex))),
            PAGES,
            "consecutive pages of GET /v1/patients share items",
            ex,
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
    answers = [
        ctx.send("GET", "listPatients", "/v1/patients", params={"limit": 1}) for _ in range(3)
    ]
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
