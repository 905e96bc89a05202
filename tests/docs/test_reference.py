"""The published reference: built by docs/build_reference.py, served at /reference.

The build runs the pinned Redocly CLI (skipped without it, failed in CI); the
serving tests need no Node: they check which page the sandbox agrees to serve,
and that its samples name the address the page was loaded from.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from docs_node import ROOT, node_tool
from starlette.testclient import TestClient

from pin_mock.overlays import fingerprint, sandbox_document
from pin_mock.server import Settings, create_app
from pin_mock.server.routes import reference as reference_module

SPEC = ROOT / "openapi" / "pin.yaml"
GUIDE = ROOT / "docs" / "getting-started.md"


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_reference", ROOT / "docs" / "build_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spec as it is now: the tests compare the page with this very file."""
    copy = tmp_path_factory.mktemp("spec") / "pin.yaml"
    copy.write_bytes(SPEC.read_bytes())
    return copy


@pytest.fixture(scope="module")
def built(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    node_tool("redocly")
    return _build_module().build(snapshot, tmp_path_factory.mktemp("reference"))


def _definition(page: str) -> dict:
    found = re.search(r"const __redoc_definition = (\{.*?\});\n", page)
    assert found, "no embedded definition"
    return json.loads(found.group(1))


def _view(snapshot: Path) -> dict:
    return sandbox_document(yaml.safe_load(snapshot.read_bytes()), strict=True)


def test_the_page_names_the_view_it_was_built_from(built: Path, snapshot: Path) -> None:
    assert reference_module.built_for(built) == fingerprint(_view(snapshot))
    assert (built.parent / "openapi.yaml").read_bytes() == snapshot.read_bytes()
    beside = json.loads((built.parent / "_sandbox" / "openapi.json").read_text())
    assert beside == json.loads(json.dumps(_view(snapshot), default=str))


def test_the_page_is_self_contained_and_sends_nothing_to_redocly(built: Path) -> None:
    page = built.read_text(encoding="utf-8")
    assert 1_000_000 < len(page) < 8_000_000
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=\"?https?:", page)
    assert "cdn.redoc.ly" not in page
    assert '"disableTelemetry":true' in page
    assert '<link rel="icon" href="data:,">' in page


def test_the_page_shows_the_sandboxs_view_plus_the_guide(built: Path, snapshot: Path) -> None:
    definition = _definition(built.read_text(encoding="utf-8"))
    document = json.loads(json.dumps(_view(snapshot), default=str))
    description = definition["info"].pop("description")
    assert description.startswith(document["info"].pop("description").rstrip())
    assert description.endswith(GUIDE.read_text())
    # The same document, less how the tests replay its examples.
    text = json.dumps(definition)
    # (The journal's examples show an X-Request-Id header: a name, not the extension.)
    assert not re.search(r"x-request(?!-id)", text) and "x-replay" not in text
    assert set(definition["paths"]) == set(document["paths"])
    assert definition["components"]["schemas"] == document["components"]["schemas"]


def test_redoc_is_told_every_language_of_the_samples(built: Path) -> None:
    """Redoc shows only the samples whose ``lang`` its ``codeSamples`` option lists."""
    page = built.read_text(encoding="utf-8")
    found = re.search(r'"codeSamples":(\{"languages":\[.*?\]\})', page)
    assert found, "the page has no codeSamples option"
    listed = [entry["lang"] for entry in json.loads(found.group(1))["languages"]]
    definition = _definition(page)
    operations = [op for item in definition["paths"].values() for op in item.values() if isinstance(op, dict) and "operationId" in op]  # fmt: skip
    assert (
        len(operations) == 33
    )  # PIN's 18; the sandbox's reset, probes (3), journal (2), chaos (3), events (2), clock (4)
    for operation in operations:
        langs = [sample["lang"] for sample in operation["x-codeSamples"]]
        assert langs == listed == ["Shell", "Python", "JavaScript"], operation["operationId"]


def test_a_failed_build_keeps_the_last_good_page(built: Path) -> None:
    module = _build_module()
    module.REDOCLY = Path("/bin/false")  # redocly exits non-zero
    before = built.read_bytes()
    with pytest.raises(module.BuildError, match="build-docs failed"):
        module.build(SPEC, built.parent)  # any spec: redocly never runs
    assert built.read_bytes() == before
    assert sorted(p.name for p in built.parent.iterdir()) == [
        "_sandbox",
        "index.html",
        "openapi.yaml",
    ]


# Serving: the sandbox serves a page only beside the spec it was built from.


@pytest.fixture
def sandbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, snapshot: Path
) -> Iterator[tuple[TestClient, Path]]:
    page = tmp_path / "index.html"
    monkeypatch.setattr(reference_module, "default_location", lambda: page)
    with TestClient(create_app(Settings(report_delay=0.0, spec=snapshot))) as client:
        yield client, page


def _fake_page(sha256: str) -> str:
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n<meta name="pin-mock-spec-sha256" content="{sha256}">\n</head><body><pre>curl -sS --fail-with-body http://127.0.0.1:8080/v1/patients</pre></body></html>\n'


def test_reference_serves_the_page_built_for_this_spec(
    sandbox: tuple[TestClient, Path], snapshot: Path
) -> None:
    client, page = sandbox
    page.write_text(_fake_page(fingerprint(_view(snapshot))))
    answer = client.get("/reference", headers={"host": "127.0.0.1:8080"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.content == page.read_bytes()  # at the address the samples are written for
    assert "etag" in answer.headers
    again = client.get("/reference", headers={"host": "127.0.0.1:8080", "if-none-match": answer.headers["etag"]})  # fmt: skip
    assert again.status_code == 304


def test_the_samples_name_the_address_the_page_was_loaded_from(
    sandbox: tuple[TestClient, Path], snapshot: Path
) -> None:
    client, page = sandbox
    page.write_text(_fake_page(fingerprint(_view(snapshot))))
    answer = client.get("/reference", headers={"host": "localhost:18123"})
    assert "curl -sS --fail-with-body http://localhost:18123/v1/patients" in answer.text
    assert "127.0.0.1:8080" not in answer.text
    # A Host that is not a plain address is never echoed into the page.
    odd = client.get("/reference", headers={"host": '"><script>alert(1)</script>'})
    assert odd.status_code == 200 and "<script>alert" not in odd.text


def test_reference_refuses_a_page_built_for_another_spec(sandbox: tuple[TestClient, Path]) -> None:
    client, page = sandbox
    page.write_text(_fake_page("0" * 64))
    answer = client.get("/reference")
    assert answer.status_code == 503
    assert "built from another version of the spec" in answer.text
    assert "make docs" in answer.text
    assert str(page.parent) not in answer.text  # no file path of the server's


def test_reference_says_what_to_run_when_nothing_is_built(sandbox: tuple[TestClient, Path]) -> None:
    client, _page = sandbox
    answer = client.get("/reference")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "has not been built" in answer.text and "make docs" in answer.text
    assert "/tmp" not in answer.text and str(ROOT) not in answer.text
    assert 'href="/openapi.yaml"' in answer.text
