"""The Prefer header steers any /v1 operation into its documented answers (auth still applies)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from harness import Sandbox
from pin_mock._bundled import fixtures_dir, spec_path
from pin_mock.server import Settings, create_app
from pin_mock.server.pipeline.scenarios import parse_prefer
from pin_mock.server.wiring import build_services
from spec_conformance import spec

PATH_VALUES = {
    "patient_id": "patient_123",
    "entry_id": "cd_1a2b3c4d5e6f",
    "report_id": "rpt_1a2b3c4d5e6f",
    "webhook_id": "wh_1a2b3c4d5e6f",
}


def documented() -> list[tuple[str, str, int]]:
    """(method, url, status) for every documented status of every /v1 operation."""
    cases = []
    for template, item in spec()["paths"].items():
        if not template.startswith("/v1/"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], template)
        for method, op in item.items():
            if method in ("get", "post", "delete"):
                cases += [(method.upper(), url, int(s)) for s in op["responses"] if s.isdigit()]
    return cases


CASES = documented()


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    """One sandbox for the read-only sweep (forced answers store nothing)."""
    services = build_services(Settings(report_delay=0.0))
    with TestClient(create_app(services.settings, services=services)) as client:
        yield Sandbox(client, services)


@pytest.mark.parametrize(
    ("method", "url", "status"), CASES, ids=[f"{m} {u} {s}" for m, u, s in CASES]
)
def test_prefer_code_answers_every_documented_status(
    shared: Sandbox, method: str, url: str, status: int
) -> None:
    response = shared.request(method, url, headers={"Prefer": f"code={status}"})
    assert response.status_code == status
    assert response.headers["preference-applied"] == f"code={status}"
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        assert name in response.headers
    # Sandbox.request has checked the body and the required headers against pin.yaml.


def test_forced_answer_is_the_spec_example(sandbox: Sandbox) -> None:
    response = sandbox.get("/v1/patients/patient_999999", headers={"Prefer": "code=200"})
    example = spec()["paths"]["/v1/patients/{patient_id}"]["get"]["responses"]["200"]
    first = next(iter(example["content"]["application/json"]["examples"].values()))
    # The example, about the patient asked for (nothing was read from the store).
    assert response.json() == {**first["value"], "id": "patient_999999"}
    limited = sandbox.get("/v1/patients", headers={"Prefer": "code=429"})
    assert limited.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert limited.headers["retry-after"].isdigit()


def test_forced_created_answer_stores_nothing_and_has_a_location(sandbox: Sandbox) -> None:
    response = sandbox.post("/v1/patients", headers={"Prefer": "code=201"})
    assert response.status_code == 201
    assert response.headers["location"] == f"/v1/patients/{response.json()['id']}"
    assert sandbox.get("/v1/patients?limit=1").json()["pagination"]["total"] == 150


def test_undocumented_code_is_400_naming_the_documented_ones(sandbox: Sandbox) -> None:
    response = sandbox.get("/v1/patients/patient_123", headers={"Prefer": "code=418"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_PARAMETER"
    assert error["details"]["parameter"] == "Prefer"
    assert error["details"]["value"] == "code=418"
    assert error["details"]["documented_codes"] == [200, 400, 401, 403, 404, 429, 431, 500, 503]
    assert "200, 400, 401, 403, 404, 429, 431, 500, 503" in error["message"]


@pytest.mark.parametrize(
    "prefer", ["code=abc", "code=99", "code=1000", "delay=-5", "delay=soon", "example="]
)
def test_malformed_preferences_are_400(sandbox: Sandbox, prefer: str) -> None:
    response = sandbox.get("/v1/patients", headers={"Prefer": prefer})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"] == "Prefer"


def test_auth_still_applies(sandbox: Sandbox) -> None:
    for headers in ({"Prefer": "code=500"}, {"Prefer": "code=500", "Authorization": "Bearer nope"}):
        forced = sandbox.get("/v1/patients", as_client=None, headers=headers)
        plain = sandbox.get("/v1/patients", as_client=None, headers={**headers, "Prefer": ""})
        assert forced.status_code == plain.status_code == 401
        assert forced.json() == plain.json()
        assert forced.headers["www-authenticate"] == plain.headers["www-authenticate"]
    readonly = sandbox.post(
        "/v1/patients", as_client="sandbox-readonly", headers={"Prefer": "code=201"}
    )
    assert readonly.status_code == 403
    assert readonly.json()["error"]["details"] == {"required_scope": "patients:write"}


def test_delay_waits_then_answers_normally(sandbox: Sandbox) -> None:
    started = time.perf_counter()
    response = sandbox.get("/v1/patients/patient_123", headers={"Prefer": "delay=300"})
    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 200 and response.json()["name"] == "John Doe"
    assert response.headers["preference-applied"] == "delay=300"
    started = time.perf_counter()
    combined = sandbox.get("/v1/patients", headers={"Prefer": "code=502, delay=10"})
    assert combined.status_code == 400, "502 is not documented"
    forced = sandbox.get("/v1/patients", headers={"Prefer": 'code=500; x=1, delay="150"'})
    assert forced.status_code == 500 and time.perf_counter() - started >= 0.15
    assert forced.headers["preference-applied"] == "code=500, delay=150"


def test_delay_is_bounded_by_the_setting(sandbox_factory) -> None:
    sandbox = sandbox_factory(max_prefer_delay_ms=50)
    response = sandbox.get("/v1/patients", headers={"Prefer": "delay=51"})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["max_delay_ms"] == 50
    assert sandbox.get("/v1/patients", headers={"Prefer": "delay=50"}).status_code == 200


def test_unknown_preferences_and_other_paths_are_left_alone(sandbox: Sandbox) -> None:
    response = sandbox.get("/v1/patients?limit=1", headers={"Prefer": "return=minimal"})
    assert response.status_code == 200 and "preference-applied" not in response.headers
    token = sandbox.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-enterprise",
            "client_secret": "sandbox-enterprise-secret",
        },
        headers={"Prefer": "code=500"},
    )
    assert token.status_code == 200
    missing = sandbox.get("/v1/nowhere", headers={"Prefer": "code=200"}, check=False)
    assert missing.status_code == 404


def test_several_prefer_headers_add_up(sandbox: Sandbox) -> None:
    response = sandbox.get(
        "/v1/patients/patient_123",
        headers=[
            ("Authorization", f"Bearer {sandbox.token()}"),
            ("Prefer", "delay=1"),
            ("Prefer", "code=404"),
        ],
    )
    assert response.status_code == 404
    assert response.headers["preference-applied"] == "code=404, delay=1"


@pytest.fixture
def named_examples(sandbox_factory, tmp_path: Path) -> Sandbox:
    """A sandbox on a copy of pin.yaml whose getPatient 404 has two named examples."""
    document = yaml.safe_load(spec_path().read_text())
    responses = document["paths"]["/v1/patients/{patient_id}"]["get"]["responses"]
    error = {"code": "NOT_FOUND", "details": {"parameter": "patient_id"}}
    responses["404"] = {
        "description": "Not found.",
        "headers": document["components"]["responses"]["InternalError"]["headers"],
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": {
                    "deleted": {"value": {"error": {**error, "message": "Patient was deleted."}}},
                    "unknown": {"value": {"error": {**error, "message": "No such patient."}}},
                },
            }
        },
    }
    path = tmp_path / "pin.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    return sandbox_factory(spec=path, fixtures=tmp_path / "fixtures")


def test_prefer_example_picks_a_named_example(named_examples: Sandbox) -> None:
    url = "/v1/patients/patient_123"
    by_name = named_examples.get(url, headers={"Prefer": "example=unknown"}, check=False)
    assert by_name.status_code == 404
    assert by_name.json()["error"]["message"] == "No such patient."
    both = named_examples.get(url, headers={"Prefer": "code=404, example=deleted"}, check=False)
    assert both.json()["error"]["message"] == "Patient was deleted."
    default = named_examples.get(url, headers={"Prefer": "code=404"}, check=False)
    assert default.json()["error"]["message"] == "Patient was deleted.", "the first one"


def test_unknown_example_name_is_400_listing_the_names(named_examples: Sandbox) -> None:
    url = "/v1/patients/patient_123"
    response = named_examples.get(url, headers={"Prefer": "example=gone"}, check=False)
    assert response.status_code == 400
    # Every named example of the operation, the 404's two among the spec's own.
    assert {"deleted", "unknown"} <= set(response.json()["error"]["details"]["examples"])
    other = named_examples.get(url, headers={"Prefer": "code=200, example=gone"}, check=False)
    assert other.json()["error"]["details"]["examples"] == ["patient_123"]


def test_parse_prefer_follows_rfc_7240_syntax() -> None:
    assert parse_prefer(["respond-async, wait=10"], 100) is None
    scenario = parse_prefer(["Code=404 ; foo=bar", 'example="not found", delay=5'], 100)
    assert (scenario.code, scenario.example, scenario.delay_ms) == (404, "not found", 5)


@pytest.mark.parametrize("name", ["pending", "completed", "failed"])
def test_report_states_can_be_forced_from_pin_yaml_examples(sandbox: Sandbox, name: str) -> None:
    # Any id: a forced answer reads no store (the harness checks it against the spec).
    response = sandbox.get("/v1/reports/rpt_000000000000", headers={"Prefer": f"example={name}"})
    assert response.status_code == 200
    assert response.json()["status"] == name
    assert response.headers["preference-applied"] == f"example={name}"


def test_a_forced_example_names_the_resource_asked_for(sandbox: Sandbox) -> None:
    asked = "rpt_x"
    response = sandbox.get(f"/v1/reports/{asked}", headers={"Prefer": "example=failed"})
    report = response.json()
    assert report["status"] == "failed" and report["id"] == asked
    captured = spec()["paths"]["/v1/reports/{report_id}"]["get"]["responses"]["200"]
    own = captured["content"]["application/json"]["examples"]["failed"]["value"]["id"]
    assert own != asked and own not in response.text  # no trace of the example's own id
    assert report["links"]["self"].endswith(f"/{asked}")
