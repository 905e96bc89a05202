"""The contract the kit tests against: locating, loading and reading ``pin.yaml``.

The kit reads the spec for what Schemathesis does not give it directly: which
operations need the ``oauth2`` scheme (for the auth-enforcement probe), the
token URL, the documented example values (to build well-formed requests) and
the query defaults of list operations (to know which page was asked for).

Nothing here imports the server: the kit tests any PIN implementation alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

#: Where the wheel bundles the spec (pyproject's hatch ``force-include``).
_BUNDLED = ("_data", "openapi", "pin.yaml")
#: Where the spec lives in a source checkout, relative to the repository root.
_CHECKOUT = Path(__file__).resolve().parents[3] / "openapi" / "pin.yaml"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecError(Exception):
    """The spec cannot be found, read or understood (a usage problem: exit 2)."""


def bundled_spec_path() -> Path:
    """The spec shipped with pin-mock: in the wheel, or ``openapi/pin.yaml`` in a checkout."""
    try:
        candidate = resources.files("pin_mock").joinpath(*_BUNDLED)
        path = Path(str(candidate))
        if path.is_file():
            return path
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - zipped installs
        pass
    return _CHECKOUT


@cache
def _load_cached(path: str, mtime: float) -> dict[str, Any]:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read the OpenAPI spec {path}: {exc}") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError(f"{path} is not an OpenAPI document (no 'paths')")
    return document


def load_spec(path: Path | str) -> dict[str, Any]:
    """The parsed spec (cached per file version); ``SpecError`` names the file on failure."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"OpenAPI spec not found: {path}")
    return _load_cached(str(path.resolve()), path.stat().st_mtime)


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` pointers (one level at a time, until a non-ref node)."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise SpecError(f"unsupported or circular $ref {ref!r}")
        seen.add(ref)
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@dataclass(frozen=True)
class Operation:
    """What the kit needs to know about one operation of the spec."""

    method: str
    path: str
    operation_id: str
    schemes: tuple[str, ...]
    parameters: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    body_example: Any = field(default=None, repr=False)
    body_media_type: str | None = None

    @property
    def label(self) -> str:
        """``GET /v1/patients``: how Schemathesis names operations."""
        return f"{self.method.upper()} {self.path}"

    def requires(self, scheme: str) -> bool:
        """Whether every security alternative of the operation needs ``scheme``."""
        return scheme in self.schemes

    def example_path(self) -> str:
        """The path with each parameter replaced by its documented example."""
        path = self.path
        for param in self.parameters:
            if param.get("in") == "path":
                value = param.get("example", param.get("schema", {}).get("example", "x"))
                path = path.replace("{" + param["name"] + "}", str(value))
        return path

    def query_default(self, name: str) -> Any:
        """The schema default of query parameter ``name``, or ``None``."""
        for param in self.parameters:
            if param.get("in") == "query" and param.get("name") == name:
                return param.get("schema", {}).get("default")
        return None


def operations(spec: dict[str, Any]) -> list[Operation]:
    """Every operation of the spec, in document order, with refs resolved."""
    global_security = spec.get("security") or []
    found = []
    for path, item in (spec.get("paths") or {}).items():
        item = resolve(spec, item)
        shared = [resolve(spec, p) for p in item.get("parameters", [])]
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = resolve(spec, item[method])
            own = [resolve(spec, p) for p in op.get("parameters", [])]
            params = {(p["in"], p["name"]): p for p in [*shared, *own]}
            security = op.get("security", global_security)
            media_type, example = _body_example(spec, op)
            found.append(
                Operation(
                    method=method,
                    path=path,
                    operation_id=op.get("operationId", f"{method} {path}"),
                    schemes=_required_schemes(security),
                    parameters=tuple(_with_schema(spec, p) for p in params.values()),
                    body_example=example,
                    body_media_type=media_type,
                )
            )
    return found


def find_operation(spec: dict[str, Any], method: str, path: str) -> Operation | None:
    """The operation for a method and path template, if the spec has it."""
    return _index(id(spec), spec).get((method.lower(), path))


_INDEXES: dict[int, tuple[dict[str, Any], dict[tuple[str, str], Operation]]] = {}


def _index(key: int, spec: dict[str, Any]) -> dict[tuple[str, str], Operation]:
    # Keyed by identity and holding the spec itself, so an id cannot be reused while cached.
    cached = _INDEXES.get(key)
    if cached is None or cached[0] is not spec:
        cached = (spec, {(op.method, op.path): op for op in operations(spec)})
        _INDEXES[key] = cached
    return cached[1]


def token_url(spec: dict[str, Any], scheme: str = "oauth2") -> str:
    """The ``clientCredentials`` token URL of ``scheme`` (often relative, ``/oauth/token``)."""
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    try:
        return schemes[scheme]["flows"]["clientCredentials"]["tokenUrl"]
    except (KeyError, TypeError):
        raise SpecError(f"the spec has no clientCredentials tokenUrl for {scheme!r}") from None


def _required_schemes(security: list[dict[str, Any]]) -> tuple[str, ...]:
    """Schemes that every alternative requires (an empty alternative means 'optional')."""
    if not security or any(not alt for alt in security):
        return ()
    common = set(security[0])
    for alternative in security[1:]:
        common &= set(alternative)
    return tuple(sorted(common))


def _with_schema(spec: dict[str, Any], param: dict[str, Any]) -> dict[str, Any]:
    schema = resolve(spec, param.get("schema", {}))
    return {**param, "schema": schema}


def _body_example(spec: dict[str, Any], op: dict[str, Any]) -> tuple[str | None, Any]:
    body = resolve(spec, op.get("requestBody")) if op.get("requestBody") else None
    if not body:
        return None, None
    for media_type, content in (body.get("content") or {}).items():
        if "example" in content:
            return media_type, content["example"]
        examples = content.get("examples") or {}
        for example in examples.values():
            example = resolve(spec, example)
            if "value" in example:
                return media_type, example["value"]
        return media_type, resolve(spec, content.get("schema", {})).get("example")
    return None, None
