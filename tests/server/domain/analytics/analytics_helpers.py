"""Helpers of the analytics tests: the URLs, and a plain recount of the definitions to compare with."""

from __future__ import annotations

from collections import Counter
from typing import Any

from harness import Sandbox

OUTCOMES = "/v1/analytics/outcomes"


POPULATION = "/v1/analytics/population-health"


def entries_of(sandbox: Sandbox, patient_id: str, client: str = "sandbox-enterprise") -> list:
    """Every entry of a patient as the API lists it."""
    out, page = [], 1
    while True:
        body = sandbox.get(
            f"/v1/patients/{patient_id}/clinical-data",
            params={"limit": 100, "page": page},
            as_client=client,
        ).json()
        out += body["data"]
        if len(out) >= body["pagination"]["total"]:
            return out
        page += 1


def expected_outcomes(
    per_patient: dict[str, list], start: str | None, end: str | None, meds_of: dict[str, list]
) -> dict[str, Any]:
    """A plain re-implementation of the outcome definitions, for comparison."""
    firsts, lasts, evaluated, improved, months = [], [], 0, 0, {}
    for scores in per_patient.values():
        scores = [(d, s) for d, s in scores if (not start or d >= start) and (not end or d <= end)]
        if not scores:
            continue
        firsts.append(scores[0][1])
        lasts.append(scores[-1][1])
        if scores[0][1] > 0 and len(scores) >= 2:
            evaluated += 1
            improved += (scores[0][1] - scores[-1][1]) / scores[0][1] >= 0.3
        for d, s in scores:
            months.setdefault(d[:7] + "-01", []).append(s)
    medications = Counter()
    for meds in meds_of.values():
        active = {
            m["rxnorm_code"]
            for m in meds
            if (not end or (m.get("start_date") or "0") <= end)
            and (not start or not m.get("end_date") or m["end_date"] >= start)
        }
        medications.update(active)
    return {
        "patients": len(firsts),
        "baseline": round(sum(firsts) / len(firsts), 2) if firsts else None,
        "latest": round(sum(lasts) / len(lasts), 2) if lasts else None,
        "evaluated": evaluated,
        "improved": improved,
        "months": {m: (round(sum(v) / len(v), 2), len(v)) for m, v in months.items()},
        "medications": dict(medications),
    }


def visible(sandbox: Sandbox, client: str = "sandbox-enterprise") -> list[tuple[dict, list]]:
    """Every patient ``client`` sees and its entries, read from the store (either engine)."""
    store = sandbox.services.store

    async def collect() -> list[tuple[dict, list]]:
        patients, _ = await store.list_patients(client, search=None, offset=0, limit=10**6)
        return [(p, await store.entries(client, p["id"])) for p in patients]

    # On the app's own event loop, where the engine's connections live.
    return sandbox.http.portal.call(collect)


def facts_of_store(sandbox: Sandbox, client: str = "sandbox-enterprise") -> tuple[dict, dict]:
    scores, meds = {}, {}
    for patient, entries in visible(sandbox, client):
        scores[patient["id"]] = [
            (e["recorded_at"][:10], e["value"]["score"])
            for e in entries
            if e["data_type"] == "pain_scores"
        ]
        meds[patient["id"]] = [e["value"] for e in entries if e["data_type"] == "medications"]
    return scores, meds
