"""Two documents, one source for each fact: PIN's contract, and the sandbox's view of it.

``openapi/pin.yaml`` is what PIN would publish: no test metadata, no sandbox
settings, engine or wording. The sandbox's additions live in the Overlay 1.1
documents beside it (``pin_mock.overlays``), and a sandbox serves both: the
contract as written at ``/openapi.yaml`` and ``/openapi.json``, its view at
``/_sandbox/openapi.json`` (what ``/docs`` and ``/reference`` show).
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from pin_mock import overlays
from pin_mock._bundled import overlay_path, spec_path
from pin_mock.cli import serve
from pin_mock.server import Settings, create_app

RAW = spec_path().read_bytes()
CONTRACT = yaml.safe_load(RAW)
VIEW = overlays.sandbox_document(CONTRACT, strict=True)
#: The sandbox clock's paths (view-only).
CLOCK_PATHS = {f"/_sandbox/clock{tail}" for tail in ("", "/freeze", "/advance", "/resume")}
#: Every option of `pin-mock serve` (``--quota-patients``...): sandbox settings.
SERVE_OPTIONS = sorted(opt for p in serve.params for opt in p.opts if opt.startswith("--"))
SETTINGS = {f"PIN_MOCK_{f.name.upper()}" for f in dataclasses.fields(Settings)}
#: The view-only paths outside /_sandbox: the probes and the scrape (pipeline/observing.py).
PROBES = {"/healthz", "/readyz", "/metrics"}
#: The request journal's operations (view-only, under /_sandbox).
JOURNAL = {"/_sandbox/requests", "/_sandbox/requests/stream"}


def _prose(node: Any, path: tuple = ()) -> Any:
    """(path, text) of every description, summary and title: the document's promises."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary", "title") and isinstance(value, str):
                yield (*path, key), value
            if key not in ("example", "examples", "value", "x-codeSamples"):
                yield from _prose(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _prose(value, (*path, index))


def test_the_contract_holds_nothing_of_the_mock() -> None:
    text = RAW.decode("utf-8")
    for marker in ("x-request", "x-replay", "x-codeSamples", "Sandbox:", "PIN_MOCK_", "pin-mock", "tests/"):  # fmt: skip
        assert marker not in text, marker
    flags = [option for option in SERVE_OPTIONS if re.search(rf"{option}\b", text)]
    assert not flags, f"sandbox flags in the contract: {flags}"
    engines = re.findall(r"(?i)\bredis\b|memory://", text)
    assert not engines, f"state engines in the contract: {engines}"
    # Descriptions, summaries and titles are PIN's promises: never about a sandbox.
    # (Example values are real answers and may name the clients they were asked as.)
    about_sandbox = ["/".join(map(str, p)) for p, text in _prose(CONTRACT) if re.search(r"(?i)sandbox", text)]  # fmt: skip
    assert not about_sandbox, about_sandbox


def test_the_contracts_only_extensions_are_pins_own_rules() -> None:
    # Rules of the contract itself, which any implementation is held to: rules across
    # fields, and the messages PIN publishes word for word. Nothing about the mock.
    found = sorted(set(re.findall(r"^\s*(x-[A-Za-z-]+):", RAW.decode(), re.MULTILINE)))
    assert found == ["x-cross-field-rules", "x-exact-wording"], found


@pytest.mark.parametrize("name", overlays.SANDBOX_OVERLAYS)
def test_each_overlay_is_an_overlay_and_every_action_selects_something(name: str) -> None:
    overlay = overlays.load(overlay_path(name))
    assert overlay["overlay"] == "1.1.0" and overlay["extends"] == "pin.yaml"
    assert {"title", "version"} <= set(overlay["info"])
    for action in overlay["actions"]:
        assert set(action) <= {"target", "description", "update", "remove"}, action
    # Applied in order after the ones before it, nothing misses (a renamed example or path).
    before = overlays.SANDBOX_OVERLAYS[: overlays.SANDBOX_OVERLAYS.index(name)]
    document = overlays.apply_all(CONTRACT, before, strict=True)
    assert overlays.apply(document, overlay).unmatched == ()


def test_the_view_adds_to_pins_operations_and_changes_none_of_their_rules() -> None:
    assert set(VIEW["paths"]) - set(CONTRACT["paths"]) == {
        "/_sandbox/reset",
        "/_sandbox/chaos",
        *JOURNAL,
        *PROBES,
        "/_sandbox/events",
        "/_sandbox/events/{event_id}/resend",
        *CLOCK_PATHS,
    }
    assert all(path.startswith("/_sandbox/") for path in set(VIEW["paths"]) - set(CONTRACT["paths"]) - PROBES)  # fmt: skip
    ignored = {"x-codeSamples", "x-request", "x-replay", "x-replay-reason", "description"}

    def rules(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: rules(v) for k, v in node.items() if k not in ignored}
        if isinstance(node, list):
            return [rules(v) for v in node]
        return node

    for path, item in CONTRACT["paths"].items():
        assert rules(VIEW["paths"][path]) == rules(item), path
    schemas = VIEW["components"]["schemas"]
    assert {k: v for k, v in schemas.items() if k in CONTRACT["components"]["schemas"]} == CONTRACT["components"]["schemas"]  # fmt: skip


def test_the_sandboxs_operations_are_tagged_secured_and_sampled() -> None:
    assert VIEW["tags"][-1]["name"] == "Sandbox"
    for path, item in VIEW["paths"].items():
        for method, operation in item.items():
            if path.startswith("/_sandbox/") or path in PROBES:
                assert operation["tags"] == ["Sandbox"], path
                assert operation["summary"] and operation["description"] and "security" in operation
            langs = [sample["lang"] for sample in operation["x-codeSamples"]]
            assert langs == ["Shell", "Python", "JavaScript"], (method, path)


def test_every_setting_the_overlays_name_is_a_real_one() -> None:
    text = "".join(overlay_path(name).read_text() for name in overlays.SANDBOX_OVERLAYS)
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text)) - {"--fail-with-body", "--help"}
    assert named and named <= set(SERVE_OPTIONS), named - set(SERVE_OPTIONS)
    variables = set(re.findall(r"PIN_MOCK_[A-Z_]+", text))
    assert variables and variables <= SETTINGS, variables - SETTINGS


def test_the_kit_reads_the_same_example_requests_as_the_sandbox() -> None:
    laid = overlays.with_example_requests(CONTRACT)

    def requests(document: dict) -> dict:
        found = {}
        for path, item in document["paths"].items():
            for method, op in item.items():
                for status, answer in op["responses"].items():
                    for content in (answer.get("content") or {}).values():
                        for name, example in (content.get("examples") or {}).items():
                            found[(path, method, status, name)] = example.get("x-request")
        return found

    from_view = {k: v for k, v in requests(VIEW).items() if k[0] in CONTRACT["paths"]}
    assert requests(laid) == from_view
    assert sum(v is not None for v in from_view.values()) >= 60


def test_a_revised_contract_skips_what_it_lacks() -> None:
    revised = {**CONTRACT, "paths": {"/oauth/token": CONTRACT["paths"]["/oauth/token"]}}
    view = overlays.sandbox_document(revised)
    assert set(view["paths"]) == {
        "/oauth/token",
        "/_sandbox/reset",
        "/_sandbox/chaos",
        *JOURNAL,
        *PROBES,
        "/_sandbox/events",
        "/_sandbox/events/{event_id}/resend",
        *CLOCK_PATHS,
    }
    with pytest.raises(overlays.OverlayError, match="select nothing"):
        overlays.sandbox_document(revised, strict=True)


def test_overlay_semantics() -> None:
    document = {"a": {"b": 1, "c": {"d": 2}}, "list": [1, 2, 3], "keep": True}
    overlay = {
        "overlay": "1.0.0",
        "actions": [
            {"target": "$.a", "update": {"c": {"e": 3}, "f": [4]}},  # nested objects merge
            {"target": "$.list", "update": 4},  # an array gets the value appended
            {"target": "$.list[0]", "remove": True},
            {"target": "$.nothing", "update": {"x": 1}},
        ],
    }
    applied = overlays.apply(document, overlay)
    assert applied.document == {"a": {"b": 1, "c": {"d": 2, "e": 3}, "f": [4]}, "list": [2, 3, 4], "keep": True}  # fmt: skip
    assert applied.unmatched == ("$.nothing",)
    assert document["list"] == [1, 2, 3], "the input is not changed"


@pytest.mark.parametrize(
    "text",
    [
        "openapi: 3.0.3\n",
        "overlay: 1.0.0\nactions: []\n",
        "overlay: 1.0.0\nactions: [{target: a}]\n",
    ],
)
def test_a_broken_overlay_is_refused_with_its_name(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.overlay.yaml"
    path.write_text(text)
    with pytest.raises(overlays.OverlayError, match="broken.overlay.yaml"):
        overlays.load(path)


# Served by the sandbox ------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    spec = tmp_path_factory.mktemp("spec") / "pin.yaml"
    spec.write_bytes(RAW)
    return TestClient(create_app(Settings(report_delay=0.0, spec=spec)), base_url="https://api.pin.ai")  # fmt: skip


def test_the_contract_is_served_as_written_and_the_view_beside_it(client: TestClient) -> None:
    assert client.get("/openapi.yaml").content == RAW
    assert json.loads(client.get("/openapi.json").content) == json.loads(json.dumps(CONTRACT, default=str))  # fmt: skip
    view = client.get("/_sandbox/openapi.json")
    assert view.status_code == 200 and view.headers["content-type"] == "application/json"
    served = view.json()
    # The address it was fetched at, and only that: no dead loopback choice in Swagger UI.
    assert [server["url"] for server in served["servers"]] == ["https://api.pin.ai"]
    assert {**served, "servers": VIEW["servers"]} == json.loads(json.dumps(VIEW, default=str))
    assert "/_sandbox/reset" in served["paths"]


def test_a_maintained_overlay_tool_makes_the_same_view(tmp_path: Path) -> None:
    """openapi-format (npm, pinned in docs/package.json) applies the same overlays alike."""
    from docs_node import ENV, ROOT, node_tool

    tool = node_tool("openapi-format")
    current = tmp_path / "step0.yaml"
    current.write_bytes(RAW)
    for number, name in enumerate(overlays.SANDBOX_OVERLAYS, 1):
        output = tmp_path / f"step{number}.json"
        done = subprocess.run(
            [str(tool), str(current), "--no-sort", "--overlayFile", str(overlay_path(name)), "--output", str(output)],
            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0 and output.exists(), done.stdout + done.stderr
        current = output
    assert json.loads(current.read_text()) == json.loads(json.dumps(VIEW, default=str))
