"""Consistency across endpoints: the same facts, wherever they are read.

Population analytics count the patients the caller can list, and both move by
one when a patient is created; a clinical-data entry is readable only under the
patient it belongs to. (Paging without repeats or gaps, case-insensitive search
and inclusive date filters are the state probes'.)
"""

from __future__ import annotations

from typing import Any

from pin_mock.contract.exchange import shown
from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of
from pin_mock.contract.probes.state import _ids, entry_body, patient_body

CONSISTENT = "pin_consistency"
ENTRY_OWNER = "pin_entry_owner"


def _totals(ctx: ProbeContext) -> tuple[Any, Any]:
    listed = ctx.call("listPatients", params={"limit": 1})
    population = ctx.call("getPopulationHealth")
    total = body_of(listed).get("pagination", {}).get("total")
    counted = body_of(population).get("total_patients")
    ctx.expect(
        total == counted,
        CONSISTENT,
        f"{population.path} total_patients is {shown(counted)}, {listed.path} total is {shown(total)}",
        population,
    )
    return total, counted


def population_totals(ctx: ProbeContext) -> None:
    before = _totals(ctx)
    created = ctx.call("createPatient", json=patient_body(ctx, "Census"))
    ctx.require(
        created.status == 201, CONSISTENT, f"POST {created.path} answered {created.status}", created
    )
    after = _totals(ctx)
    for name, old, new in zip(
        ("the patient list's total", "total_patients"), before, after, strict=True
    ):
        ok = isinstance(old, int) and isinstance(new, int) and new == old + 1
        ctx.expect(ok, CONSISTENT, f"{name} went from {shown(old)} to {shown(new)} when one patient was created",
                   created)  # fmt: skip


def entry_owner(ctx: ProbeContext) -> None:
    patients = []
    for n in range(2):
        ex = ctx.call("createPatient", json=patient_body(ctx, f"Owner{n}"))
        ctx.require(ex.status == 201, ENTRY_OWNER, f"POST {ex.path} answered {ex.status}", ex)
        patients.append(str(body_of(ex).get("id", "")))
    owner, other = patients
    created = ctx.call("addClinicalData", {"patient_id": owner}, json=entry_body(ctx))
    ctx.require(
        created.status == 201,
        ENTRY_OWNER,
        f"POST {created.path} answered {created.status}",
        created,
    )
    eid = str(body_of(created).get("id", ""))
    ex = ctx.call("getClinicalDataEntry", {"patient_id": other, "entry_id": eid})
    ctx.expect(ex.status == 404, ENTRY_OWNER,
               f"entry {eid} of patient {owner} answered {ex.status} under patient {other} (expected 404)", ex)  # fmt: skip
    listed = ctx.call("listClinicalData", {"patient_id": other})
    ctx.expect(eid not in _ids(listed), ENTRY_OWNER,
               f"entry {eid} of patient {owner} is listed under patient {other}", listed)  # fmt: skip


CONSISTENCY_PROBES = [
    Probe("population totals match the patient list and move on create",
          ("listPatients", "getPopulationHealth", "createPatient"), population_totals, (CONSISTENT,)),
    Probe("an entry is readable only under its own patient",
          ("createPatient", "addClinicalData", "getClinicalDataEntry", "listClinicalData"),
          entry_owner, (ENTRY_OWNER,)),
]  # fmt: skip
