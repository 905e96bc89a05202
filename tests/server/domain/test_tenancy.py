"""Per-client sandboxes: the same seeded base, plus what each client created, and a reset."""

from __future__ import annotations

from typing import Any

from harness import Sandbox

A, B = "sandbox-enterprise", "sandbox-professional"
RESET = "/_sandbox/reset"


def create_world(sandbox: Sandbox, client: str = A) -> dict[str, Any]:
    """A patient with a score, a new score for a seeded patient, a webhook and a report."""
    patient = sandbox.post(
        "/v1/patients",
        as_client=client,
        json={"name": "Private Person", "date_of_birth": "1990-02-02", "gender": "other"},
    ).json()
    mine = sandbox.post(
        f"/v1/patients/{patient['id']}/clinical-data",
        as_client=client,
        json={
            "data_type": "pain_scores",
            "recorded_at": "2024-04-04T09:00:00Z",
            "value": {"score": 9},
        },
    ).json()
    seeded = sandbox.post(
        "/v1/patients/patient_5/clinical-data",
        as_client=client,
        json={
            "data_type": "diagnoses",
            "recorded_at": "2024-04-04T09:00:00Z",
            "value": {"icd10_code": "G89.28", "display": "Other chronic postprocedural pain"},
        },
    ).json()
    webhook = sandbox.post(
        "/v1/webhooks",
        as_client=client,
        json={"url": "https://a.test/hook", "events": ["patient.created"]},
    ).json()
    report = sandbox.post(
        "/v1/reports", as_client=client, json={"type": "population_health", "format": "json"}
    ).json()
    return {
        "patient": patient,
        "entry": mine,
        "seeded_entry": seeded,
        "webhook": webhook,
        "report": report,
    }


def view(sandbox: Sandbox, client: str) -> dict[str, Any]:
    """What a client sees of the shared data, as comparable values."""
    return {
        "total": sandbox.get("/v1/patients?limit=1", as_client=client).json()["pagination"][
            "total"
        ],
        "patient_5": sandbox.get(
            "/v1/patients/patient_5/clinical-data?limit=100", as_client=client
        ).json(),
        "history_5": sandbox.get("/v1/patients/patient_5", as_client=client).json(),
        "population": sandbox.get("/v1/analytics/population-health", as_client=client).json(),
        "outcomes": sandbox.get("/v1/analytics/outcomes", as_client=client).json(),
        "webhooks": sandbox.get("/v1/webhooks", as_client=client).json(),
        # Ids only: a report's status moves on by itself.
        "reports": [r["id"] for r in sandbox.get("/v1/reports", as_client=client).json()["data"]],
    }


def test_what_a_creates_is_404_for_b_never_403(sandbox: Sandbox) -> None:
    world = create_world(sandbox)
    pid, entry = world["patient"]["id"], world["entry"]["id"]
    for url in (
        f"/v1/patients/{pid}",
        f"/v1/patients/{pid}/clinical-data",
        f"/v1/patients/{pid}/clinical-data/{entry}",
        f"/v1/patients/patient_5/clinical-data/{world['seeded_entry']['id']}",
        f"/v1/analytics/outcomes?patient_id={pid}",
        f"/v1/webhooks/{world['webhook']['id']}",
        f"/v1/reports/{world['report']['id']}",
    ):
        assert sandbox.get(url, as_client=B).status_code == 404, url
        assert sandbox.get(url, as_client=A).status_code == 200, url
    posted = sandbox.post(
        f"/v1/patients/{pid}/clinical-data",
        as_client=B,
        json={"data_type": "pain_scores", "value": {"score": 1}},
    )
    assert posted.status_code == 404


def test_what_a_creates_is_never_listed_searched_or_counted_for_b(sandbox: Sandbox) -> None:
    untouched = view(sandbox, B)
    create_world(sandbox)
    assert view(sandbox, B) == untouched
    found = sandbox.get("/v1/patients?search=private%20person", as_client=B).json()
    assert found["pagination"]["total"] == 0
    assert (
        sandbox.get("/v1/patients?search=private%20person", as_client=A).json()["pagination"][
            "total"
        ]
        == 1
    )


def test_a_sees_its_own_data_everywhere(sandbox: Sandbox) -> None:
    before = view(sandbox, A)
    world = create_world(sandbox)
    after = view(sandbox, A)
    assert after["total"] == before["total"] + 1
    assert world["seeded_entry"] in after["patient_5"]["data"]
    assert "G89.28" in [h["code"] for h in after["history_5"]["medical_history"]]
    assert after["population"]["total_patients"] == before["population"]["total_patients"] + 1
    assert (
        after["population"]["by_gender"]["other"] == before["population"]["by_gender"]["other"] + 1
    )
    assert after["outcomes"]["patients"] == before["outcomes"]["patients"] + 1
    assert after["webhooks"]["pagination"]["total"] == 1
    assert after["reports"] == [world["report"]["id"]]


def test_reset_restores_the_seeded_state_for_the_caller_only(sandbox: Sandbox) -> None:
    pristine = view(sandbox, A)
    create_world(sandbox, A)
    create_world(sandbox, B)
    b_before = view(sandbox, B)
    response = sandbox.http.post(RESET, headers={"Authorization": f"Bearer {sandbox.token(A)}"})
    assert response.status_code == 200
    assert response.json() == {
        "client_id": A,
        "reset": True,
        "removed": {"patients": 1, "clinical_data": 2, "reports": 1, "webhooks": 1},
    }
    assert view(sandbox, A) == pristine
    assert view(sandbox, B) == b_before
    again = sandbox.http.post(RESET, headers={"Authorization": f"Bearer {sandbox.token(A)}"})
    assert again.json()["removed"] == {
        "patients": 0,
        "clinical_data": 0,
        "reports": 0,
        "webhooks": 0,
    }


def test_reset_needs_a_valid_token_and_post(sandbox: Sandbox) -> None:
    missing = sandbox.http.post(RESET)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "UNAUTHORIZED"
    assert missing.headers["www-authenticate"] == 'Bearer realm="pin"'
    forged = sandbox.http.post(RESET, headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]
    wrong = sandbox.http.get(RESET, headers={"Authorization": f"Bearer {sandbox.token()}"})
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    readonly = sandbox.http.post(
        RESET, headers={"Authorization": f"Bearer {sandbox.token('sandbox-readonly')}"}
    )
    # A reset drops what was written: it needs every write scope (tests/security too).
    assert readonly.status_code == 403
    assert readonly.json()["error"]["details"]["required_scope"] == (
        "clinical_data:write patients:write reports:write webhooks:write"
    )


def test_reset_is_the_sandboxs_not_pins() -> None:
    import yaml

    from pin_mock._bundled import spec_path
    from spec_conformance import spec

    assert RESET not in yaml.safe_load(spec_path().read_text())["paths"]  # PIN's contract
    assert spec()["paths"][RESET]["post"]["tags"] == ["Sandbox"]  # the sandbox's view
