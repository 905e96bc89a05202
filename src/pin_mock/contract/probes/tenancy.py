"""Tenancy: what one client creates, another client never sees, counts or deletes.

Runs when the kit is given a second client of the same target
(``--second-client-id``/``--second-client-secret``). The run's client creates a
patient with an entry, a report and a webhook (each the spec's documented
body); the second client must get 404 for each of them (and for the patient in
the outcomes' ``patient_id``), must not find them in its lists, must count in
``population-health`` only the patients it can list, and must not be able to
delete the webhook, which the first client still reads afterwards.
"""

from __future__ import annotations

from typing import Any

from pin_mock.contract.exchange import Exchange, shown
from pin_mock.contract.findings import SECRETS
from pin_mock.contract.probes.framework import Probe, ProbeContext, ProbeSkip, body_of
from pin_mock.contract.probes.state import _listed, entry_body, patient_body
from pin_mock.contract.tokens import Credentials, TokenSource

TENANCY = "pin_tenancy"
NEEDS = ("createPatient", "getPatient", "listPatients", "addClinicalData", "getClinicalDataEntry",
         "createReport", "getReport", "listReports", "createWebhook", "getWebhook", "listWebhooks",
         "deleteWebhook")  # fmt: skip


def second_bearer(ctx: ProbeContext) -> str:
    """``Bearer <token>`` of the second client (``ProbeSkip`` when the run has none)."""
    if not (ctx.second_client_id and ctx.second_client_secret):
        raise ProbeSkip("no second client (--second-client-id/--second-client-secret)")
    if "second_tokens" not in ctx.shared:
        creds = Credentials.for_target(ctx.target.base_url, ctx.spec.token_url,
                                       ctx.second_client_id, ctx.second_client_secret)  # fmt: skip
        ctx.shared["second_tokens"] = TokenSource(creds)
    token = ctx.shared["second_tokens"].token()
    SECRETS.add(token)  # a real credential: redacted in every report
    return f"Bearer {token}"


def _created(ctx: ProbeContext, operation_id: str, body: dict, params: dict | None = None) -> str:
    ex = ctx.call(operation_id, params, json=body)
    ctx.require(200 <= ex.status < 300, TENANCY, f"POST {ex.path} answered {ex.status}", ex)
    return str(body_of(ex).get("id", ""))


def tenancy(ctx: ProbeContext) -> None:
    bearer = second_bearer(ctx)
    pid = _created(ctx, "createPatient", patient_body(ctx, "Tenant"))
    eid = _created(ctx, "addClinicalData", entry_body(ctx), {"patient_id": pid})
    rid = _created(ctx, "createReport", ctx.body("createReport"))
    wid = _created(
        ctx, "createWebhook", ctx.body("createWebhook", description=f"tenancy {ctx.run_id}")
    )

    def as_second(operation_id: str, path_params: dict | None = None, **kwargs: Any) -> Exchange:
        return ctx.call(operation_id, path_params, token=bearer, **kwargs)

    reads = [
        ("getPatient", {"patient_id": pid}),
        ("getClinicalDataEntry", {"patient_id": pid, "entry_id": eid}),
        ("listClinicalData", {"patient_id": pid}),
        ("getReport", {"report_id": rid}),
        ("downloadReport", {"report_id": rid}),
        ("getWebhook", {"webhook_id": wid}),
        ("listDeliveries", {"webhook_id": wid}),
    ]
    for operation_id, path_params in reads:
        if ctx.operation(operation_id) is None:
            continue
        ex = as_second(operation_id, path_params)
        ctx.expect(ex.status == 404, TENANCY,
                   f"another client's GET {ex.path} answered {ex.status} instead of 404", ex)  # fmt: skip
    if ctx.operation("getOutcomes") is not None:
        ex = as_second("getOutcomes", params={"patient_id": pid})
        ctx.expect(ex.status == 404, TENANCY,
                   f"another client's outcomes for patient {pid} answered {ex.status} instead of 404", ex)  # fmt: skip
    for operation_id, wanted, params in (
        ("listPatients", pid, {"search": pid}),
        ("listReports", rid, {}),
        ("listWebhooks", wid, {}),
    ):
        listing = as_second(operation_id, params={**params, "limit": 100})
        total = body_of(listing).get("pagination", {}).get("total")
        page = (total or 0) // 100 + 1 if isinstance(total, int) else 1
        last = as_second(operation_id, params={**params, "limit": 100, "page": page})
        seen = {
            str(i.get("id"))
            for ex in (listing, last)
            for i in body_of(ex).get("data") or []
            if isinstance(i, dict)
        }
        ctx.expect(
            wanted not in seen, TENANCY, f"another client lists {wanted} in GET {last.path}", last
        )
    if ctx.operation("getPopulationHealth") is not None:
        listed = as_second("listPatients", params={"limit": 1})
        population = as_second("getPopulationHealth")
        total = body_of(listed).get("pagination", {}).get("total")
        counted = body_of(population).get("total_patients")
        ctx.expect(total == counted, TENANCY,
                   f"another client's population-health counts {shown(counted)} patients but it lists {shown(total)}", population)  # fmt: skip
    hook = {"webhook_id": wid}
    ex = as_second("deleteWebhook", hook)
    ctx.expect(ex.status in (403, 404), TENANCY,
               f"another client's DELETE {ex.path} answered {ex.status} instead of 404", ex)  # fmt: skip
    ex = ctx.call("getWebhook", hook)
    ctx.expect(
        ex.status == 200,
        TENANCY,
        f"after another client's DELETE, GET {ex.path} answered {ex.status}",
        ex,
    )
    found, ex = _listed(ctx, "listPatients", pid, search=pid)
    ctx.expect(found, TENANCY, f"the creating client no longer lists its patient {pid}", ex)


TENANCY_PROBES = [
    Probe("tenancy: a second client sees none of the first's data", NEEDS, tenancy, (TENANCY,))
]
