"""Consistency across endpoints: the same facts, wherever they are read.

Population analytics count the patients the caller can list, and both move by
one when a patient is created; a clinical-data entry is readable only under the
patient it belongs to. (Paging without repeats or gaps, case-insensitive search
and inclusive date filters are the state probes'.)
"""

from __future__ import annotations

from typing import Any

from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of
from pin_mock.contract.probes.state import ENTRY_TYPE, RECORDED_AT, _ids

CONSISTENT = "pin_consistency"
ENTRY_OWNER = "pin_entry_owner"


def _totals(ctx: ProbeContext) -> tuple[Any, Any]:
    listed = ctx.send("GET", "listPatients", "/v1/patients", params={"limit": 1})
    population = ctx.send("GET", "getPopulationHealth", "/v1/analytics/population-health")
    total = body_of(listed).get("pagination", {}).get("total")
    counted = body_of(population).get("total_patients")
    ctx.expect(
        total == counted,
        CONSISTENT,
        f"population-health total_patients is {counted!r}, GET /v1/patients total is {total!r}",
        population,
    )
    return total, counted


def population_totals(ctx: ProbeContext) -> None:
    before = _totals(ctx)
    body = {"name": f"Census {ctx.run_id} Probe", "date_of_birth": "1970-01-01", "gender": "male"}
    created = ctx.send("POST", "createPatient", "/v1/patients", json=body)
    ctx.require(
        created.status == 201, CONSISTENT, f"POST /v1/patients answered {created.status}", created
    )
    after = _totals(ctx)
    for name, old, new in zip(
        ("GET /v1/patients total", "total_patients"), before, after, strict=True
    ):
        ok = isinstance(old, int) and isinstance(new, int) and new == old + 1
        ctx.expect(ok, CONSISTENT, f"{name} went from {old!r} to {new!r} when one patient was created",
                   created)  # fmt: skip


def entry_owner(ctx: ProbeContext) -> None:
    patients = []
    for n in range(2):
        body = {"name": f"Owner{n} {ctx.run_id} Probe", "date_of_birth": "1980-02-02"}
        ex = ctx.send("POST", "createPatient", "/v1/patients", json=body)
        ctx.require(ex.status == 201, ENTRY_OWNER, f"POST /v1/patients answered {ex.status}", ex)
        patients.append(str(body_of(ex).get("id", "")))
    owner, other = patients
    entry = {"data_type": ENTRY_TYPE, "recorded_at": RECORDED_AT,
             "value": {"score": 3, "scale": "NRS", "location": "knee"}}  # fmt: skip
    path = f"/v1/patients/{owner}/clinical-data"
    created = ctx.send(
        "POST", "addClinicalData", path, json=entry, path_params={"patient_id": owner}
    )
    ctx.require(
        created.status == 201, ENTRY_OWNER, f"POST {path} answered {created.status}", created
    )
    eid = str(body_of(created).get("id", ""))
    wrong = f"/v1/patients/{other}/clinical-data/{eid}"
    ex = ctx.send(
        "GET", "getClinicalDataEntry", wrong, path_params={"patient_id": other, "entry_id": eid}
    )
    ctx.expect(ex.status == 404, ENTRY_OWNER,
               f"entry {eid} of patient {owner} answered {ex.status} under patient {other} (expected 404)", ex)  # fmt: skip
    listed = ctx.send("GET", "listClinicalData", f"/v1/patients/{other}/clinical-data",
                      path_params={"patient_id": other})  # fmt: skip
    ctx.expect(eid not in _ids(listed), ENTRY_OWNER,
               f"entry {eid} of patient {owner} is listed under patient {other}", listed)  # fmt: skip


CONSISTENCY_PROBES = [
    Probe("population totals match the patient list and move on create",
          ("listPatients", "getPopulationHealth", "createPatient"), population_totals, (CONSISTENT,)),
    Probe("an entry is readable only under its own patient",
          ("createPatient", "addClinicalData", "getClinicalDataEntry", "listClinicalData"),
          entry_owner, (ENTRY_OWNER,)),
]  # fmt: skip
