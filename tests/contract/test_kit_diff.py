"""``pin-mock diff``: each rule on a revision of the bundled spec, in both directions.

Every edit below makes a NEW revision from the bundled spec; comparing OLD to
NEW must report the rule with its verdict for clients, and comparing NEW back
to OLD the opposite change with the opposite verdict. Twelve edits, twenty-four
pairs of revisions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner

from pin_mock.cli import main
from pin_mock.contract.diff import compare_documents
from pin_mock.contract.spec import bundled_spec_path, load_spec

BASE = load_spec(bundled_spec_path())
Edit = Callable[[dict], None]


def schemas(doc: dict) -> dict:
    return doc["components"]["schemas"]


def param(doc: dict, path: str, method: str, name: str) -> dict:
    return next(p for p in doc["paths"][path][method]["parameters"] if p.get("name") == name)


def remove_operation(doc: dict) -> None:
    del doc["paths"]["/v1/reports"]["get"]


def remove_status(doc: dict) -> None:
    del doc["paths"]["/v1/patients/{patient_id}"]["get"]["responses"]["404"]


def remove_response_field(doc: dict) -> None:
    del schemas(doc)["PatientSummary"]["properties"]["created_at"]
    schemas(doc)["PatientSummary"]["required"].remove("created_at")


def add_optional_parameter(doc: dict) -> None:
    doc["paths"]["/v1/patients"]["get"]["parameters"].append(
        {"name": "sort", "in": "query", "schema": {"type": "string"}}
    )


def require_parameter(doc: dict) -> None:
    param(doc, "/v1/analytics/outcomes", "get", "interval")["required"] = True


def require_body_field(doc: dict) -> None:
    schemas(doc)["PatientCreate"]["required"].append("gender")


def narrow_request_enum(doc: dict) -> None:
    param(doc, "/v1/analytics/outcomes", "get", "interval")["schema"]["enum"] = ["month"]


def narrow_request_bounds(doc: dict) -> None:
    doc["components"]["parameters"]["Limit"]["schema"]["maximum"] = 50


def widen_response_type(doc: dict) -> None:
    schemas(doc)["Pagination"]["properties"]["total"]["type"] = "number"


def add_scope(doc: dict) -> None:
    doc["paths"]["/v1/patients"]["get"]["security"] = [
        {"oauth2": ["patients:read", "analytics:read"]}
    ]


def response_field_optional(doc: dict) -> None:
    schemas(doc)["Patient"]["required"].remove("gender")


def widen_response_enum(doc: dict) -> None:
    schemas(doc)["DeliveryStatus"]["enum"].append("queued")


#: (edit, (rule, breaking) from OLD to NEW, (rule, breaking) from NEW back to OLD)
EDITS: list[tuple[Edit, tuple[str, bool], tuple[str, bool]]] = [
    (remove_operation, ("operation-removed", True), ("operation-added", False)),
    (remove_status, ("status-removed", True), ("status-added", False)),
    (remove_response_field, ("response-field-removed", True), ("response-field-added", False)),
    (add_optional_parameter, ("parameter-added", False), ("parameter-removed", True)),
    (require_parameter, ("parameter-required", True), ("parameter-optional", False)),
    (require_body_field, ("request-field-required", True), ("request-field-optional", False)),
    (narrow_request_enum, ("enum-narrowed", True), ("enum-widened", False)),
    (narrow_request_bounds, ("bounds-narrowed", True), ("bounds-widened", False)),
    (widen_response_type, ("type-widened", True), ("type-narrowed", False)),
    (add_scope, ("scope-added", True), ("scope-removed", False)),
    (
        response_field_optional,
        ("response-field-optional", True),
        ("response-field-required", False),
    ),
    (widen_response_enum, ("enum-widened", True), ("enum-narrowed", False)),
]
PAIRS = [(edit, forward, True) for edit, forward, _ in EDITS] + [
    (edit, back, False) for edit, _, back in EDITS
]


def revised(edit: Edit) -> dict:
    doc = copy.deepcopy(BASE)
    edit(doc)
    return doc


@pytest.mark.parametrize(("edit", "expected", "forward"), PAIRS,
                         ids=[f"{e.__name__}-{'forward' if f else 'back'}" for e, _, f in PAIRS])  # fmt: skip
def test_each_rule_in_both_directions(
    edit: Edit, expected: tuple[str, bool], forward: bool
) -> None:
    new = revised(edit)
    old, new = (BASE, new) if forward else (new, BASE)
    changes = compare_documents(old, new)
    found = {(c.rule, c.breaking) for c in changes}
    assert expected in found, [(c.rule, c.breaking, c.where) for c in changes]
    rule, breaking = expected
    # One edit, one kind of change: the verdict is the rule's, nothing else breaks clients.
    assert any(c.breaking for c in changes) is breaking


def test_the_same_spec_has_no_change() -> None:
    assert compare_documents(BASE, copy.deepcopy(BASE)) == []


def test_the_command_exits_1_on_a_breaking_change_and_writes_junit(tmp_path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(BASE, sort_keys=False))
    new.write_text(yaml.safe_dump(revised(remove_operation), sort_keys=False))
    junit = tmp_path / "diff.xml"
    done = CliRunner().invoke(main, ["diff", str(old), str(new), "--junit", str(junit)])
    assert done.exit_code == 1, done.output
    assert "[operation-removed] GET /v1/reports" in done.output
    root = ElementTree.parse(junit).getroot()
    assert (
        root.get("failures") == "1" and root.find(".//failure").get("type") == "operation-removed"
    )
    back = CliRunner().invoke(main, ["diff", str(new), str(old), "--all"])
    assert back.exit_code == 0 and "[operation-added] GET /v1/reports" in back.output
    missing = CliRunner().invoke(main, ["diff", str(old), str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
