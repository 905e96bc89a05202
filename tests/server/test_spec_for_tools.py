"""The spec as tools read it: generators, Swagger UI, fuzzers and JavaScript regex engines."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from pin_mock._bundled import fixtures_dir, spec_path
from pin_mock.server.pipeline.patterns import matches

RAW: dict[str, Any] = yaml.safe_load(spec_path().read_text())
SCHEMAS = RAW["components"]["schemas"]


def _walk(node: Any, path: tuple = ()) -> Any:
    """Every (path, mapping) of the document, examples and code samples left out."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key not in ("example", "examples", "x-request", "x-codeSamples"):
                yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _operations() -> list[dict[str, Any]]:
    return [
        operation
        for item in RAW["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]


def test_every_object_schema_has_a_name() -> None:
    """Generators name an inline object after its parent (DataType1, ...Type0): none is left."""
    inline = [
        "/".join(map(str, path))
        for path, node in _walk(RAW)
        if ("properties" in node or node.get("type") == "object")
        and not (len(path) == 3 and path[:2] == ("components", "schemas"))
    ]
    assert not inline, inline


def test_every_named_schema_and_response_is_used() -> None:
    text = spec_path().read_text()
    for kind, names in (("schemas", SCHEMAS), ("responses", RAW["components"]["responses"])):
        unused = [n for n in names if f'"#/components/{kind}/{n}"' not in text]
        assert not unused, f"unused {kind}: {unused}"


def test_nullable_enums_are_one_enum() -> None:
    """`enum: [..., null]` makes generators emit one class per member: a nullable value is
    `anyOf: [{$ref: X}, {$ref: NullValue}]`, and only `NullValue` lists null."""
    for path, node in _walk(RAW):
        if "enum" in node and None in node["enum"]:
            assert path == ("components", "schemas", "NullValue"), path
            assert node["enum"] == [None]


def test_token_request_is_strict_and_prefilled_with_a_sandbox_client() -> None:
    token = SCHEMAS["TokenRequest"]
    assert token["required"] == ["grant_type"]
    assert token["properties"]["grant_type"]["enum"] == ["client_credentials"]
    clients = yaml.safe_load((Path(fixtures_dir()) / "clients.yaml").read_text())["clients"]
    client = token["properties"]["client_id"]["example"]
    secret = token["properties"]["client_secret"]["example"]
    assert {"client_id": client, "client_secret": secret} in [
        {k: c[k] for k in ("client_id", "client_secret")} for c in clients
    ]
    form = RAW["paths"]["/oauth/token"]["post"]["requestBody"]["content"]
    example = form["application/x-www-form-urlencoded"]["example"]
    assert (example["client_id"], example["client_secret"]) == (client, secret)
    assert "example" not in token["properties"]["scope"]  # a scope example narrows the token


def test_no_query_parameter_narrows_by_default() -> None:
    """Swagger UI pre-fills examples: an optional filter's example would narrow a plain Execute."""
    for operation in _operations():
        for param in operation.get("parameters", []):
            if "$ref" in param:
                param = RAW["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
            if param["in"] == "query":
                assert "example" not in param and "examples" not in param, param["name"]
                assert "example" not in param["schema"], param["name"]


def test_defaulted_fields_are_not_declared_with_default_in_bodies() -> None:
    """openapi-typescript makes a defaulted field required; defaults are prose in bodies."""
    for name in ("PainScoreValue", "DiagnosisValue"):
        for prop in SCHEMAS[name]["properties"].values():
            assert "default" not in prop, name


def test_rate_limit_headers_have_minimums_and_a_reset_in_the_future() -> None:
    headers = RAW["components"]["headers"]
    assert headers["X-RateLimit-Limit"]["schema"]["minimum"] == 1
    assert headers["X-RateLimit-Remaining"]["schema"]["minimum"] == 0
    assert headers["X-RateLimit-Reset"]["schema"]["minimum"] == 0
    assert headers["X-RateLimit-Reset"]["schema"]["example"] > time.time()
    assert headers["Retry-After"]["schema"]["minimum"] == 1


PATTERNS = sorted({node["pattern"] for _, node in _walk(RAW) if "pattern" in node})
# Where Python's re and ECMA-262 read \s, \d, \w, . and $ differently.
PROBES = [
    "",
    "a",
    "Jane Smith",
    "\x1f\x1f",
    "x\x1c",
    "\x85",
    "\ufeff",
    "\u2028",
    "a\n",
    "2024-01-01\n",
    "٢٠٢٤-01-01",
    "2024-01-01",
    "http://\x1f\x1f",
    "https://your-app.com/webhook",
    "M54.50",
    "whsec_abc",
    "\u00e9",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_patterns_mean_the_same_in_ecma_262_and_python(pattern: str) -> None:
    assert not re.search(r"\\[sSdDwWbB]", pattern), "a class escape whose meaning differs"
    for probe in PROBES:
        python = re.search(pattern, probe) is not None
        # $ is the one token left whose meaning differs: Python's also matches before a final \n.
        if pattern.endswith("$") and probe.endswith("\n"):
            python = re.search(pattern[:-1] + r"\Z", probe) is not None
        assert matches(pattern, probe) == python, (pattern, probe)


def test_cross_field_rules_cover_every_date_range() -> None:
    for operation in _operations():
        names = {
            RAW["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
            if "$ref" in p
            else p["name"]
            for p in operation.get("parameters", [])
        }
        rules = operation.get("x-cross-field-rules", [])
        if {"start_date", "end_date"} <= names:
            assert {
                "rule": "not-after",
                "first": "query.start_date",
                "second": "query.end_date",
            }.items() <= rules[0].items(), operation["operationId"]
        for rule in rules:
            assert rule["rule"] in ("not-after", "required", "absent")
            assert rule["description"]
            for field in (
                rule.get("first"),
                rule.get("second"),
                rule.get("field"),
                *rule.get("when", {}),
            ):
                assert field is None or field.split(".")[0] in ("query", "body")
