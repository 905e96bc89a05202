"""The kit reads the bundled spec and its facts, and imports nothing from the server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pin_mock.contract
from pin_mock.contract.spec import (
    Spec,
    SpecError,
    bundled_spec_path,
    load_spec,
    operations,
    token_url,
)

KIT_DIR = Path(pin_mock.contract.__file__).parent
#: The only pin_mock modules the kit may import: its own, where the bundled spec is, and the
#: overlay applier that lays the bundled example requests on it (shared, not the server's).
ALLOWED = ("pin_mock.contract", "pin_mock._bundled", "pin_mock.overlays")


def test_bundled_spec_is_found_in_a_checkout():
    path = bundled_spec_path()
    assert path.is_file() and path.name == "pin.yaml"
    assert load_spec(path)["openapi"].startswith("3.0")


def test_operations_know_which_need_oauth2():
    ops = {op.operation_id: op for op in operations(load_spec(bundled_spec_path()))}
    assert not ops["issueToken"].requires("oauth2")
    protected = [op for op in ops.values() if op.requires("oauth2")]
    assert len(protected) == len(ops) - 1
    assert ops["getPatient"].example_path() == "/v1/patients/patient_123"
    assert ops["createPatient"].body_example["name"] == "Jane Smith"
    assert ops["listPatients"].query_default("limit") == 50


def test_token_url_and_operation_lookup():
    spec = load_spec(bundled_spec_path())
    assert token_url(spec) == "/oauth/token"
    assert Spec.of(spec).find("GET", "/v1/reports").operation_id == "listReports"
    assert Spec.of(spec).find("GET", "/nowhere") is None


def test_unreadable_specs_are_named(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [unclosed\n")
    with pytest.raises(SpecError, match="bad.yaml"):
        load_spec(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("title: nothing\n")
    with pytest.raises(SpecError, match="not an OpenAPI document"):
        load_spec(empty)


def test_facts_read_from_the_bundled_spec():
    spec = Spec.load(bundled_spec_path())
    assert (spec.oauth2_scheme, spec.token_url, spec.api_prefix) == (
        "oauth2",
        "/oauth/token",
        "/v1",
    )
    assert {"NOT_FOUND", "RATE_LIMIT_EXCEEDED", "REPORT_NOT_READY"} <= spec.error_codes
    assert spec.error_codes_by_status[404] == {"NOT_FOUND"}
    assert "invalid_client" in spec.oauth_error_codes and "NOT_FOUND" not in spec.oauth_error_codes
    assert "patients:write" in spec.scopes and len(spec.scopes) == 9
    assert spec.by_id("listReports").query_enum("status") == {
        "pending", "processing", "completed", "failed",
    }  # fmt: skip
    assert spec.by_id("listPatients").query_maximum("limit") == 100
    assert spec.by_id("createPatient").scopes == ("patients:write",)
    assert spec.in_api("/v1/anything") and not spec.in_api("/oauth/token")
    assert (
        spec.is_token_endpoint("/oauth/token") and spec.token_operation.operation_id == "issueToken"
    )


KIT_MODULES = sorted(KIT_DIR.rglob("*.py"))


@pytest.mark.parametrize("module", KIT_MODULES, ids=lambda p: str(p.relative_to(KIT_DIR)))
def test_the_kit_imports_nothing_from_the_server(module):
    tree = ast.parse(module.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    # ``pin_mock`` itself holds the version and nothing else.
    server = sorted(
        m
        for m in imported
        if m.startswith("pin_mock") and m != "pin_mock" and not m.startswith(ALLOWED)
    )
    assert server == [], f"{module.name} imports server modules {server}"


@pytest.mark.parametrize("module", KIT_MODULES, ids=lambda p: str(p.relative_to(KIT_DIR)))
def test_no_kit_module_is_over_400_lines(module):
    assert len(module.read_text().splitlines()) <= 400


def test_body_enums_are_read_from_the_spec():
    spec = Spec.load(bundled_spec_path())
    assert set(spec.body_enum(spec.by_id("createReport"), "format")) == {"pdf", "csv", "json"}
    events = spec.body_enum(spec.by_id("createWebhook"), "events")  # an array: its items' enum
    assert "patient.created" in events and "report.completed" in events
    assert spec.body_enum(spec.by_id("createReport"), "no_such_field") == ()
