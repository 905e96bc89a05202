"""The contract itself: valid OpenAPI 3.0.3 with the whole PIN surface."""

from __future__ import annotations

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from pin_mock._bundled import spec_path
from spec_conformance import schema_problem, spec

# The table: method, path, scope (None: public).
SURFACE = [
    ("post", "/oauth/token", None),
    ("get", "/v1/patients", "patients:read"),
    ("post", "/v1/patients", "patients:write"),
    ("get", "/v1/patients/{patient_id}", "patients:read"),
    ("get", "/v1/patients/{patient_id}/clinical-data", "clinical_data:read"),
    ("post", "/v1/patients/{patient_id}/clinical-data", "clinical_data:write"),
    ("get", "/v1/patients/{patient_id}/clinical-data/{entry_id}", "clinical_data:read"),
    ("get", "/v1/analytics/outcomes", "analytics:read"),
    ("get", "/v1/analytics/population-health", "analytics:read"),
    ("get", "/v1/reports", "reports:read"),
    ("post", "/v1/reports", "reports:write"),
    ("get", "/v1/reports/{report_id}", "reports:read"),
    ("get", "/v1/reports/{report_id}/download", "reports:read"),
    ("post", "/v1/webhooks", "webhooks:write"),
    ("get", "/v1/webhooks", "webhooks:read"),
    ("get", "/v1/webhooks/{webhook_id}", "webhooks:read"),
    ("delete", "/v1/webhooks/{webhook_id}", "webhooks:write"),
    ("get", "/v1/webhooks/{webhook_id}/deliveries", "webhooks:read"),
]
V1 = [row for row in SURFACE if row[1].startswith("/v1")]
RATE_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def test_spec_is_valid_openapi_3_0_3() -> None:
    raw, _ = read_from_filename(str(spec_path()))
    validate(raw)
    assert raw["openapi"] == "3.0.3"


def test_servers_are_host_only_and_paths_are_full() -> None:
    contract = yaml.safe_load(spec_path().read_text())
    assert contract["servers"] == [{"url": "https://api.pin.ai", "description": "PIN"}]
    assert all(p.startswith(("/v1/", "/oauth/")) for p in contract["paths"])
    # The sandbox's view: its own address, and its own operations under /_sandbox only.
    assert spec()["servers"][0]["url"] == "http://127.0.0.1:8080"
    probes = {"/healthz", "/readyz", "/metrics"}  # answered by pipeline/observing.py
    clock = {f"/_sandbox/clock{tail}" for tail in ("", "/freeze", "/advance", "/resume")}
    journal = {"/_sandbox/requests", "/_sandbox/requests/stream"}
    assert set(spec()["paths"]) - set(contract["paths"]) == {
        "/_sandbox/reset",
        "/_sandbox/chaos",
        *journal,
        *probes,
        "/_sandbox/events",
        "/_sandbox/events/{event_id}/resend",
        *clock,
    }


@pytest.mark.parametrize(("method", "path", "scope"), SURFACE)
def test_every_operation_is_documented_with_its_scope(method: str, path: str, scope: str) -> None:
    operation = spec()["paths"][path][method]
    for field in ("operationId", "summary", "description", "tags"):
        assert operation.get(field), f"{method} {path} lacks {field}"
    if scope is None:
        assert operation["security"] == []
    else:
        assert operation["security"] == [{"oauth2": [scope]}]


@pytest.mark.parametrize(("method", "path", "scope"), V1)
def test_every_v1_operation_documents_errors_and_rate_limit_headers(
    method: str, path: str, scope: str
) -> None:
    responses = spec()["paths"][path][method]["responses"]
    expected = {"400", "401", "403", "429", "500"} | ({"404"} if "{" in path else set())
    assert expected <= set(responses), f"{method} {path} lacks {expected - set(responses)}"
    for status, response in responses.items():
        headers = response.get("headers", {})
        missing = RATE_HEADERS - set(headers)
        assert not missing, f"{method} {path} {status} lacks {missing}"
        # 503: the shared state, the rate-limit counters included, may be unreachable.
        assert all(headers[h]["required"] for h in RATE_HEADERS) or status == "503"
        if int(status) >= 400:
            schema = response["content"]["application/json"]["schema"]
            assert set(schema["properties"]) == {"error"}
    assert responses["429"]["headers"]["Retry-After"]["required"] is True


def test_oauth2_scheme_has_client_credentials_flow_and_every_scope() -> None:
    scheme = spec()["components"]["securitySchemes"]["oauth2"]
    flow = scheme["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert {s for _, _, s in V1} <= set(flow["scopes"])


SEED_PATIENT = {
    "id": "patient_123",
    "name": "John Doe",
    "date_of_birth": "1980-01-15",
    "created_at": "2024-01-01T00:00:00Z",
}


def _named(operation: dict, status: str, name: str) -> object:
    content = operation["responses"][status]["content"]["application/json"]
    return content["examples"][name]


def test_seed_examples_appear_verbatim() -> None:
    """The PIN documentation's own examples, where the sandbox answers them."""
    paths = spec()["paths"]
    listing = paths["/v1/patients"]["get"]
    search = _named(listing, "200", "search_john")
    assert search["x-request"] == {"query": {"page": 1, "limit": 10, "search": "John"}}
    assert SEED_PATIENT in search["value"]["data"]
    first = _named(listing, "200", "first_page")["value"]
    assert first["pagination"] == {"page": 1, "limit": 10, "total": 150}
    patient = _named(paths["/v1/patients/{patient_id}"]["get"], "200", "patient_123")["value"]
    assert {k: patient[k] for k in SEED_PATIENT} == SEED_PATIENT
    assert patient["contact"] == {"email": "john.doe@example.com", "phone": "+1-555-0123"}
    create = paths["/v1/patients"]["post"]["requestBody"]["content"]["application/json"]
    assert create["example"] == {
        "name": "Jane Smith",
        "date_of_birth": "1985-05-20",
        "gender": "female",
        "contact": {"email": "jane.smith@example.com"},
    }
    bad = _named(paths["/v1/patients/{patient_id}/clinical-data"]["get"], "400", "invalid_date")
    assert bad["value"] == {
        "error": {
            "code": "INVALID_PARAMETER",
            "message": "Invalid date format. Use YYYY-MM-DD.",
            "details": {"parameter": "start_date", "value": "01/01/2024"},
        }
    }
    webhook = paths["/v1/webhooks"]["post"]["requestBody"]["content"]["application/json"]
    assert webhook["example"] == {
        "url": "https://your-app.com/webhook",
        "events": ["patient.created", "clinical_data.updated", "report.completed"],
    }


def test_webhook_events_are_documented_as_callbacks() -> None:
    callbacks = spec()["paths"]["/v1/webhooks"]["post"]["callbacks"]
    assert set(callbacks) == {
        "patient.created",
        "clinical_data.updated",
        "report.completed",
        "report.failed",
    }
    for callback in callbacks.values():
        (operation,) = (path["post"] for path in callback.values())
        names = {p["name"] for p in operation["parameters"]}
        assert names == {"webhook-id", "webhook-timestamp", "webhook-signature"}


def _documented_examples() -> list[tuple[str, dict, object]]:
    """Every response example of the spec: (where, schema, value)."""
    found = []
    for path, item in spec()["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                for media_type, content in (response.get("content") or {}).items():
                    where = f"{method.upper()} {path} {status} {media_type}"
                    if "example" in content:
                        found.append((where, content["schema"], content["example"]))
                    for name, example in (content.get("examples") or {}).items():
                        found.append(
                            (f"{where} example {name}", content["schema"], example["value"])
                        )
    return found


@pytest.mark.parametrize(
    ("where", "schema", "value"),
    _documented_examples(),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_response_example_matches_its_schema(where: str, schema: dict, value: object) -> None:
    # Prefer: code=/example= serves these verbatim, so they must be valid answers.
    assert schema_problem(schema, value) is None, where
