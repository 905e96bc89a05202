"""The kit reads the bundled spec, and imports nothing from the server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pin_mock.contract
from pin_mock.contract.spec import (
    SpecError,
    bundled_spec_path,
    find_operation,
    load_spec,
    operations,
    token_url,
)

KIT_DIR = Path(pin_mock.contract.__file__).parent
#: The only pin_mock modules the kit may import: its own.
ALLOWED = "pin_mock.contract"


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
    assert find_operation(spec, "GET", "/v1/reports").operation_id == "listReports"
    assert find_operation(spec, "GET", "/nowhere") is None


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


@pytest.mark.parametrize("module", sorted(KIT_DIR.glob("*.py")), ids=lambda p: p.name)
def test_the_kit_imports_nothing_from_the_server(module):
    tree = ast.parse(module.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    server = sorted(m for m in imported if m.startswith("pin_mock") and not m.startswith(ALLOWED))
    assert server == [], f"{module.name} imports server modules {server}"
