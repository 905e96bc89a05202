"""Validate a real HTTP exchange against the sandbox's view of openapi/pin.yaml, end to end.

Connexion's own response validation runs inside the app, before the outer
middleware adds the rate-limit headers; this checks what a client receives:
the status is documented, required headers are present, and the JSON body
matches the schema (with OpenAPI 3.0 ``nullable``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import httpx
from connexion.json_schema import Draft4ResponseValidator, resolve_refs
from jsonschema import FormatChecker, validators

from pin_mock.overlays import sandbox_document
from pin_mock.server.app import load_spec
from pin_mock.server.settings import Settings


@functools.cache
def spec() -> dict[str, Any]:
    """The dereferenced bundled spec, as the sandbox serves it (PIN's plus ``/_sandbox``)."""
    return resolve_refs(sandbox_document(load_spec(Settings().spec), strict=True))


@functools.cache
def _routes() -> list[tuple[re.Pattern[str], str]]:
    routes = []
    for template in spec()["paths"]:
        pattern = re.sub(r"\{[^}]+\}", r"[^/]+", template)
        routes.append((re.compile(f"^{pattern}$"), template))
    # Literal segments beat parameters: /v1/patients before /v1/patients/{id}.
    return sorted(routes, key=lambda r: r[1].count("{"))


def operation_for(method: str, path: str) -> dict[str, Any]:
    """The spec's operation serving ``method path``; AssertionError if none."""
    for pattern, template in _routes():
        if pattern.match(path):
            operation = spec()["paths"][template].get(method.lower())
            assert operation is not None, f"{method} {template} is not in the spec"
            return operation
    raise AssertionError(f"no path in the spec matches {path}")


def assert_conforms(response: httpx.Response) -> None:
    """Fail with a precise message if ``response`` breaks the contract."""
    request = response.request
    operation = operation_for(request.method, request.url.path)
    where = f"{request.method} {request.url.path} -> {response.status_code}"
    documented = operation["responses"]
    definition = documented.get(str(response.status_code)) or documented.get("default")
    assert definition is not None, f"{where}: status not documented ({sorted(documented)})"
    for name, header in (definition.get("headers") or {}).items():
        if header.get("required"):
            assert name.lower() in response.headers, f"{where}: missing required header {name}"
            if header.get("schema", {}).get("type") == "integer":
                assert re.fullmatch(r"-?\d+", response.headers[name]), (
                    f"{where}: header {name}={response.headers[name]!r} is not an integer"
                )
    content = definition.get("content")
    if not content:
        assert not response.content, f"{where}: body sent where none is documented"
        return
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type in content, f"{where}: content-type {media_type!r} not in {sorted(content)}"
    schema = content[media_type].get("schema")
    if media_type == "application/json" and schema:
        problem = schema_problem(schema, response.json())
        assert problem is None, f"{where}: body {problem}"


def _null_allowed(rule: Any) -> Any:
    def check(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Any:
        if instance is None and schema.get("nullable") is True:
            return
        yield from rule(validator, value, instance, schema)

    return check


# The spec marks a nullable reference as `nullable: true` beside `allOf: [$ref]`
# (one generated type, not a copy); Connexion's validator honours `nullable`
# only beside `type` and `enum`.
_ResponseValidator = validators.extend(
    Draft4ResponseValidator, {"allOf": _null_allowed(Draft4ResponseValidator.VALIDATORS["allOf"])}
)


def schema_problem(schema: dict[str, Any], value: Any) -> str | None:
    """Why ``value`` breaks a response ``schema`` (OpenAPI 3.0 rules, formats checked), or None."""
    validator = _ResponseValidator(schema, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    if not errors:
        return None
    return f"breaks the schema at {list(errors[0].path)}: {errors[0].message}"
