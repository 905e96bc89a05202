"""/openapi.yaml is the file as written, /openapi.json the same document; servers name the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from pin_mock.server import Settings, create_app
from pin_mock.server.routes.spec_files import RUNNING_DESCRIPTION, SpecFiles, load_spec_files

ROOT = Path(__file__).resolve().parents[2]
# The sandbox serves this snapshot of the spec, so that the tests compare it with
# the very bytes it read.
RAW = (ROOT / "openapi" / "pin.yaml").read_bytes()
DOCUMENT = yaml.safe_load(RAW)
FILE_URL = DOCUMENT["servers"][0]["url"]  # http://127.0.0.1:8080


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    spec = tmp_path_factory.mktemp("spec") / "pin.yaml"
    spec.write_bytes(RAW)
    yield create_app(Settings(report_delay=0.0, spec=spec))


def client(app: object, base_url: str) -> TestClient:
    return TestClient(app, base_url=base_url)  # type: ignore[arg-type]


def test_yaml_is_the_file_byte_for_byte_at_the_files_own_address(app: object) -> None:
    answer = client(app, FILE_URL).get("/openapi.yaml")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/yaml"
    assert answer.content == RAW


def test_yaml_elsewhere_differs_only_by_one_servers_entry_naming_the_address(app: object) -> None:
    answer = client(app, "http://localhost:9123").get("/openapi.yaml")
    served = yaml.safe_load(answer.content)
    assert served["servers"] == [
        {"url": "http://localhost:9123", "description": RUNNING_DESCRIPTION},
        *DOCUMENT["servers"],
    ]
    assert {**served, "servers": DOCUMENT["servers"]} == DOCUMENT
    # Every other byte is the file's: comments, order, quoting.
    entry = (
        b'  - url: "http://localhost:9123"\n'
        + f'    description: "{RUNNING_DESCRIPTION}"\n'.encode()
    )
    assert answer.content.replace(entry, b"", 1) == RAW


def test_a_host_header_that_is_not_an_address_is_not_echoed(app: object) -> None:
    for host in ['evil"\n  - x', "a b", "x:y:z", "<script>", ""]:
        answer = client(app, FILE_URL).get("/openapi.yaml", headers={"host": host})
        assert answer.content == RAW, host
        assert json.loads(client(app, FILE_URL).get("/openapi.json", headers={"host": host}).content)["servers"] == DOCUMENT["servers"]  # fmt: skip


def test_json_is_the_same_document_with_refs_names_and_order_intact(app: object) -> None:
    answer = client(app, FILE_URL).get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    served = json.loads(answer.content)
    assert served == DOCUMENT
    assert list(served) == list(DOCUMENT)
    assert list(served["components"]["schemas"]) == list(DOCUMENT["components"]["schemas"])
    assert answer.text.count('"$ref":') == _refs(DOCUMENT) > 100


def _refs(node: object) -> int:
    """How many ``$ref`` keys the document holds."""
    if isinstance(node, dict):
        return ("$ref" in node) + sum(_refs(value) for value in node.values())
    if isinstance(node, list):
        return sum(_refs(value) for value in node)
    return 0


def test_json_elsewhere_names_the_address_first(app: object) -> None:
    served = client(app, "http://10.0.0.7:8080").get("/openapi.json").json()
    assert served["servers"][0] == {
        "url": "http://10.0.0.7:8080",
        "description": RUNNING_DESCRIPTION,
    }
    assert {**served, "servers": DOCUMENT["servers"]} == DOCUMENT


def test_answers_revalidate_with_an_etag(app: object) -> None:
    sandbox = client(app, FILE_URL)
    for path in ("/openapi.yaml", "/openapi.json"):
        first = sandbox.get(path)
        assert first.headers["cache-control"] == "no-cache"
        again = sandbox.get(path, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert sandbox.head(path).headers["etag"] == first.headers["etag"]


def test_connexions_resolved_copy_is_not_served(app: object) -> None:
    # Connexion's copy inlines every $ref and sorts keys; it must not answer anywhere.
    sandbox = client(app, FILE_URL)
    for path in ("/openapi.json", "/openapi.yaml", "/docs/openapi.json"):
        answer = sandbox.get(path)
        assert answer.status_code != 200 or b"$ref" in answer.content, path


@pytest.mark.parametrize(
    ("servers", "inserted"),
    [
        ("servers:\n- url: http://a.example\n", True),  # items at column 0
        ("servers:   # where\n    - url: http://a.example\n", True),
        ("servers: [{url: http://a.example}]\n", False),  # flow style: left alone
        ("servers:\n  # a comment first\n  - url: http://a.example\n", False),
        ("", False),
    ],
)
def test_the_servers_block_in_other_shapes(servers: str, inserted: bool) -> None:
    raw = f"openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\n{servers}paths: {{}}\n".encode()
    files = SpecFiles(raw, yaml.safe_load(raw))
    served = files.yaml_for("http://b.example")
    parsed = yaml.safe_load(served)
    if inserted:
        assert parsed["servers"][0]["url"] == "http://b.example"
        assert parsed["servers"][1:] == yaml.safe_load(raw)["servers"]
    else:
        assert served == raw
    assert json.loads(files.json_for("http://b.example")).get("servers") == (parsed.get("servers"))


def test_unquoted_yaml_dates_become_json_strings() -> None:
    raw = b"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-since: 2024-01-15\n"
    files = load_spec_files(raw, yaml.safe_load(raw))
    assert json.loads(files.json_for(None))["x-since"] == "2024-01-15"
