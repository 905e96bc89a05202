"""The documented examples' requests: from the spec, a sidecar next to it, or a source the user names."""

from __future__ import annotations

import copy

import pytest
import yaml

from kit_helpers import SPEC, revised_spec
from pin_mock.contract.examples import default_source, documented_examples
from pin_mock.contract.openapi import SpecError
from pin_mock.contract.spec import Spec, bundled_spec_path


def strip_requests(node: object) -> None:
    """The spec with every x-request moved out (what a sidecar would then hold)."""
    if isinstance(node, dict):
        node.pop("x-request", None)
        for value in node.values():
            strip_requests(value)
    elif isinstance(node, list):
        for value in node:
            strip_requests(value)


def test_the_bundled_spec_documents_requests_to_replay() -> None:
    sidecar = default_source(bundled_spec_path())
    assert sidecar is not None and sidecar.name == "example-requests.overlay.yaml"
    examples = documented_examples(SPEC, sidecar)
    replayable = [e for e in examples if not e.why_not]
    assert len(replayable) > 50
    assert all(e.why_not for e in examples if e.operation.operation_id == "issueToken")


def test_without_requests_in_the_spec_nothing_is_replayed_and_each_says_why(tmp_path) -> None:
    spec = Spec.load(revised_spec(tmp_path, strip_requests))
    examples = documented_examples(spec)
    assert examples and all(e.why_not for e in examples)
    reasons = {e.why_not for e in examples if e.operation.operation_id == "getPatient"}
    assert "the spec does not document the request that produces it (x-request)" in reasons
    assert all(r.startswith(("the spec does not", "not replayable")) for r in reasons)


def test_a_map_source_gives_the_requests_back(tmp_path) -> None:
    spec_path = revised_spec(tmp_path, strip_requests)
    sidecar = spec_path.with_name(f"{spec_path.stem}.examples.yaml")
    sidecar.write_text(
        yaml.safe_dump(
            {"getPatient": {"unknown_patient": {"path": {"patient_id": "patient_999999"}}}}
        )
    )
    assert default_source(spec_path) == sidecar
    found = {
        e.key: e
        for e in documented_examples(Spec.load(spec_path), sidecar)
        if e.operation.operation_id == "getPatient"
    }
    assert (
        found["404 unknown_patient"].request == {"path": {"patient_id": "patient_999999"}}
        and not found["404 unknown_patient"].why_not
    )


def test_an_overlay_source_is_applied_to_the_spec(tmp_path) -> None:
    spec_path = revised_spec(tmp_path, strip_requests)
    target = "$.paths['/v1/patients/{patient_id}'].get.responses['404'].content['application/json'].examples.unknown_patient"
    overlay = {"overlay": "1.0.0", "info": {"title": "requests", "version": "1"},
               "actions": [{"target": target, "update": {"x-request": {"path": {"patient_id": "patient_999999"}}}}]}  # fmt: skip
    source = tmp_path / "requests.overlay.yaml"
    source.write_text(yaml.safe_dump(overlay))
    found = [
        e
        for e in documented_examples(Spec.load(spec_path), source)
        if e.key == "404 unknown_patient"
    ]
    assert found and found[0].request == {"path": {"patient_id": "patient_999999"}}


def test_a_broken_overlay_source_is_one_clear_error(tmp_path) -> None:
    source = tmp_path / "requests.overlay.yaml"
    source.write_text(yaml.safe_dump({"overlay": "1.0.0", "actions": [{"target": "paths"}]}))
    with pytest.raises(SpecError, match="JSONPath"):
        documented_examples(SPEC, source)


def test_a_run_replays_from_a_named_source(sandbox_url, run_kit, tmp_path) -> None:
    spec_path = revised_spec(tmp_path, strip_requests)
    source = tmp_path / "mine.yaml"
    source.write_text(
        yaml.safe_dump(
            {"getPatient": {"unknown_patient": {"path": {"patient_id": "patient_999999"}}}}
        )
    )
    result = run_kit(
        sandbox_url, spec=spec_path, examples=source, include=("getPatient",), phases=("probes",)
    )
    assert result.exit_code == 0
    replayed = result.coverage.rows[
        [r.operation_id for r in result.coverage.rows].index("getPatient")
    ].examples
    assert replayed["404 unknown_patient"] == "" and copy.copy(replayed)
