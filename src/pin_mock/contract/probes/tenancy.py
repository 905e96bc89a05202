"""Tenancy: what one client creates, another client never sees, counts or deletes.

Runs when the kit is given a second client of the same target
(``--second-client-id``/``--second-client-secret``). The run's client creates a
patient with an entry, a report and a webhook; the second client must get 404
for each of them (and for the patient in ``analytics/outcomes?patient_id=``),
must not find them in its lists, must count in ``population-health`` only the
patients it can list, and must not be able to delete the webhook, which the
first client still reads afterwards.
"""

from __future__ import annotations

from pin_mock.contract.exchange import Exchange
from pin_mock.contract.probes.framework import SAFE_URL, Probe, ProbeContext, ProbeSkip, body_of
from pin_mock.contract.probes.state import ENTRY_TYPE, RECORDED_AT, _listed
from pin_mock.contract.tokens import Credentials, TokenSource

TENANCY = "pin_tenancy"
NEEDS = ("createPatient", "getPatient", "listPatients", "addClinicalData", "getClinicalDataEntry",
         "createReport", "getReport", "listReports", "createWebhook", "getWebhook", "listWebhooks",
         "deleteWebhook")  # fmt: skip


def _created(ctx: ProbeContext, operation_id: str, path: str, body: dict, status: int) -> str:
    ex = ctx.send("POST", operation_id, path, json=body)
    ctx.require(ex.status == status, TENANCY, f"POST {path} answered {ex.status}", ex)
    return str(body_of(ex).get("id", ""))


def tenancy(ctx: ProbeContext) -> None:
    if not (ctx.second_client_id and ctx.second_client_secret):
        raise ProbeSkip("no second client (--second-client-id/--second-client-secret)")
    pid = _created(ctx, "createPatient", "/v1/patients",
                   {"name": f"Tenant {ctx.run_id} Probe", "date_of_birth": "1975-07-07"}, 201)  # fmt: skip
    entry = {"data_type": ENTRY_TYPE, "recorded_at": RECORDED_AT,
             "value": {"score": 4, "scale": "NRS", "location": "hip"}}  # fmt: skip
    eid = _created(ctx, "addClinicalData", f"/v1/patients/{pid}/clinical-data", entry, 201)
    rid = _created(
        ctx, "createReport", "/v1/reports", {"type": "population_health", "format": "json"}, 202
    )
    wid = _created(ctx, "createWebhook", "/v1/webhooks",
                   {"url": SAFE_URL, "events": ["report.failed"], "description": f"tenancy {ctx.run_id}"}, 201)  # fmt: skip
    creds = Credentials.for_target(ctx.target.base_url, ctx.spec.token_url,
                                   ctx.second_client_id, ctx.second_client_secret)  # fmt: skip
    second = TokenSource(creds)
    bearer = f"Bearer {second.token()}"

    def as_second(method: str, operation_id: str, path: str, **kwargs: object) -> Exchange:
        op = ctx.operation(operation_id)
        return ctx.target.request(
            method, path, template=op.path if op else path, token=bearer, **kwargs
        )  # type: ignore[arg-type]

    reads = [
        ("getPatient", f"/v1/patients/{pid}", {"patient_id": pid}),
        ("getClinicalDataEntry", f"/v1/patients/{pid}/clinical-data/{eid}", {"patient_id": pid, "entry_id": eid}),
        ("listClinicalData", f"/v1/patients/{pid}/clinical-data", {"patient_id": pid}),
        ("getReport", f"/v1/reports/{rid}", {"report_id": rid}),
        ("downloadReport", f"/v1/reports/{rid}/download", {"report_id": rid}),
        ("getWebhook", f"/v1/webhooks/{wid}", {"webhook_id": wid}),
        ("listDeliveries", f"/v1/webhooks/{wid}/deliveries", {"webhook_id": wid}),
    ]  # fmt: skip
    for operation_id, path, params in reads:
        if ctx.operation(operation_id) is None:
            continue
        ex = as_second("GET", operation_id, path, path_params=params)
        ctx.expect(ex.status == 404, TENANCY,
                   f"another client's GET {path} answered {ex.status} instead of 404", ex)  # fmt: skip
    if ctx.operation("getOutcomes") is not None:
        ex = as_second("GET", "getOutcomes", "/v1/analytics/outcomes", params={"patient_id": pid})
        ctx.expect(ex.status == 404, TENANCY,
                   f"another client's outcomes for patient {pid} answered {ex.status} instead of 404", ex)  # fmt: skip
    for operation_id, path, wanted, params in (
        ("listPatients", "/v1/patients", pid, {"search": pid}),
        ("listReports", "/v1/reports", rid, {}),
        ("listWebhooks", "/v1/webhooks", wid, {}),
    ):
        listing = as_second("GET", operation_id, path, params={**params, "limit": 100})
        total = body_of(listing).get("pagination", {}).get("total")
        page = (total or 0) // 100 + 1 if isinstance(total, int) else 1
        last = as_second("GET", operation_id, path, params={**params, "limit": 100, "page": page})
        seen = {
            str(i.get("id"))
            for ex in (listing, last)
            for i in body_of(ex).get("data") or []
            if isinstance(i, dict)
        }
        ctx.expect(
            wanted not in seen, TENANCY, f"another client lists {wanted} in GET {path}", last
        )
    if ctx.operation("getPopulationHealth") is not None:
        listed = as_second("GET", "listPatients", "/v1/patients", params={"limit": 1})
        population = as_second("GET", "getPopulationHealth", "/v1/analytics/population-health")
        total, counted = (
            body_of(listed).get("pagination", {}).get("total"),
            body_of(population).get("total_patients"),
        )
        ctx.expect(total == counted, TENANCY,
                   f"another client's population-health counts {counted!r} patients but it lists {total!r}", population)  # fmt: skip
    item = f"/v1/webhooks/{wid}"
    ex = as_second("DELETE", "deleteWebhook", item, path_params={"webhook_id": wid})
    ctx.expect(ex.status in (403, 404), TENANCY,
               f"another client's DELETE {item} answered {ex.status} instead of 404", ex)  # fmt: skip
    ex = ctx.send("GET", "getWebhook", item, path_params={"webhook_id": wid})
    ctx.expect(
        ex.status == 200,
        TENANCY,
        f"after another client's DELETE, GET {item} answered {ex.status}",
        ex,
    )
    found, ex = _listed(ctx, "listPatients", "/v1/patients", pid, search=pid)
    ctx.expect(found, TENANCY, f"the creating client no longer lists its patient {pid}", ex)


TENANCY_PROBES = [
    Probe("tenancy: a second client sees none of the first's data", NEEDS, tenancy, (TENANCY,))
]
