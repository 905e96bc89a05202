"""Per-tenant quotas: one client cannot fill the sandbox, and a refusal leaves no trace.

OWASP API Security Top 10 2023:
- API4:2023 Unrestricted Resource Consumption: patients, clinical-data entries,
  reports and webhooks are capped per tenant (issue 10, finding 6: 20,000
  patients in a row were all 201); past a quota a create is
  ``409 QUOTA_EXCEEDED`` naming the quota, its limit and the use, and nothing
  is stored or announced.
- API6:2023 Unrestricted Access to Sensitive Business Flows: another tenant's
  quota is its own; one client filling its sandbox does not refuse another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness import Sandbox
from pin_mock.server.errors import ConfigError
from pin_mock.server.settings import Settings
from spec_conformance import spec

ME, OTHER = "sandbox-standard", "sandbox-professional"
HOOK_URL = "http://127.0.0.1:9/hook"  # never called: nothing subscribes to events here


def _patient(sb: Sandbox, as_client: str = ME, name: str = "Quota Test") -> Any:
    body = {"name": name, "date_of_birth": "1980-01-01"}
    return sb.post("/v1/patients", json=body, as_client=as_client)


def _entry(sb: Sandbox, as_client: str = ME) -> Any:
    body = {"data_type": "pain_scores", "value": {"score": 3}}
    return sb.post("/v1/patients/patient_123/clinical-data", json=body, as_client=as_client)


def _report(sb: Sandbox, as_client: str = ME) -> Any:
    body = {"type": "population_health", "format": "json"}
    return sb.post("/v1/reports", json=body, as_client=as_client)


def _webhook(sb: Sandbox, as_client: str = ME) -> Any:
    body = {"url": HOOK_URL, "events": ["report.completed"]}
    return sb.post("/v1/webhooks", json=body, as_client=as_client)


def _count(sb: Sandbox, url: str, as_client: str = ME) -> int:
    return int(sb.get(url, as_client=as_client).json()["pagination"]["total"])


#: quota -> (create, the list that counts it, the setting)
CASES: dict[str, tuple[Callable[..., Any], str]] = {
    "patients": (_patient, "/v1/patients?limit=1"),
    "entries": (_entry, "/v1/patients/patient_123/clinical-data?limit=1"),
    "reports": (_report, "/v1/reports?limit=1"),
    "webhooks": (_webhook, "/v1/webhooks?limit=1"),
}


@pytest.fixture
def events() -> list[tuple[str, str, dict[str, Any]]]:
    return []


@pytest.fixture
def quota_sandbox(
    sandbox_factory: Callable[..., Sandbox], events: list[tuple[str, str, dict[str, Any]]]
) -> Sandbox:
    sandbox = sandbox_factory(quota_patients=2, quota_entries=2, quota_reports=2, quota_webhooks=2)
    sandbox.services.events.subscribe(
        lambda client, kind, data: events.append((client, kind, data))
    )
    return sandbox


@pytest.mark.parametrize("quota", sorted(CASES))
def test_a_create_past_the_quota_is_409_and_leaves_no_trace(
    quota_sandbox: Sandbox, events: list[tuple[str, str, dict[str, Any]]], quota: str
) -> None:
    create, listing = CASES[quota]
    accepted = [create(quota_sandbox) for _ in range(2)]
    assert [a.status_code for a in accepted] in ([201, 201], [202, 202])
    before = _count(quota_sandbox, listing)
    # Creates announce synchronously; reports accepted above announce their end later.
    announced = len([e for e in events if not e[1].startswith("report.")])

    refused = create(quota_sandbox)

    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "QUOTA_EXCEEDED"
    assert error["details"] == {"quota": quota, "limit": 2, "used": 2}
    assert "Location" not in refused.headers
    assert _count(quota_sandbox, listing) == before
    assert len([e for e in events if not e[1].startswith("report.")]) == announced
    accepted_reports = {a.json()["id"] for a in accepted}
    assert all(e[2]["report_id"] in accepted_reports for e in events if e[1].startswith("report."))


@pytest.mark.parametrize("quota", sorted(CASES))
def test_one_tenants_full_quota_does_not_refuse_another(quota_sandbox: Sandbox, quota: str) -> None:
    create, _ = CASES[quota]
    for _ in range(3):
        create(quota_sandbox)
    assert create(quota_sandbox).status_code == 409
    assert create(quota_sandbox, as_client=OTHER).status_code in (201, 202)


def test_deleting_a_webhook_frees_its_slot(quota_sandbox: Sandbox) -> None:
    first = _webhook(quota_sandbox).json()["id"]
    _webhook(quota_sandbox)
    assert _webhook(quota_sandbox).status_code == 409
    assert quota_sandbox.delete(f"/v1/webhooks/{first}", as_client=ME).status_code == 204
    assert _webhook(quota_sandbox).status_code == 201


def test_resetting_the_sandbox_frees_the_quota(quota_sandbox: Sandbox) -> None:
    _patient(quota_sandbox)
    _patient(quota_sandbox)
    assert _patient(quota_sandbox).status_code == 409
    token = quota_sandbox.token(ME)
    reset = quota_sandbox.http.post("/_sandbox/reset", headers={"Authorization": f"Bearer {token}"})
    assert reset.status_code == 200
    assert _patient(quota_sandbox).status_code == 201


def test_an_unknown_patient_is_still_404_when_the_entry_quota_is_full(
    quota_sandbox: Sandbox,
) -> None:
    _entry(quota_sandbox)
    _entry(quota_sandbox)
    body = {"data_type": "pain_scores", "value": {"score": 3}}
    missing = quota_sandbox.post(
        "/v1/patients/patient_nobody/clinical-data", json=body, as_client=ME
    )
    assert missing.status_code == 404


def test_a_zero_quota_refuses_the_first_create(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(quota_patients=0)
    refused = _patient(sandbox)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"quota": "patients", "limit": 0, "used": 0}


def test_the_spec_documents_the_defaults() -> None:
    settings = Settings()
    described = " ".join(spec()["components"]["responses"]["QuotaExceeded"]["description"].split())
    assert f"{settings.quota_patients:,} created patients" in described
    assert f"{settings.quota_entries:,} created clinical data entries" in described
    assert f"{settings.quota_reports:,} reports" in described
    assert f"{settings.quota_webhooks:,} webhooks" in described
    assert f"{settings.quota_pending_deliveries:,} pending webhook deliveries" in described


@pytest.mark.parametrize(
    "quota", ["patients", "entries", "reports", "webhooks", "pending_deliveries"]
)
def test_quotas_cannot_be_negative(quota: str) -> None:
    with pytest.raises(ConfigError, match=f"quota_{quota}"):
        Settings(**{f"quota_{quota}": -1})


def test_the_spec_example_is_what_the_sandbox_answers(sandbox: Sandbox) -> None:
    """At the default limit of 100 webhooks, the 101st gets the spec's example, word for word."""
    for _ in range(sandbox.settings.quota_webhooks):
        assert _webhook(sandbox).status_code == 201
    refused = _webhook(sandbox)
    example = spec()["components"]["responses"]["QuotaExceeded"]["content"]["application/json"]
    assert refused.json() == example["examples"]["quota_exceeded"]["value"]
