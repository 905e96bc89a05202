"""One operation of the spec, as the kit needs it: method, path, scopes, parameters, examples.

``operations(document)`` reads every operation in document order, refs
resolved. An operation knows how to fill its path template (``path_with``),
its documented request body (``body_example``) and the parameters and
statuses it documents, so the probes take paths, parameters and bodies from
the spec they are given rather than from literals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pin_mock.contract.openapi import examples_of, resolve

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PLACEHOLDER = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True)
class Operation:
    """What the kit needs to know about one operation of the spec."""

    method: str
    path: str
    operation_id: str
    schemes: tuple[str, ...]
    #: Scopes the operation's security asks for, over every scheme and alternative.
    scopes: tuple[str, ...] = ()
    parameters: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    body_example: Any = field(default=None, repr=False)
    body_media_type: str | None = None
    #: The resolved ``responses`` object, by status (``"200"``, ``"4XX"``, ``"default"``).
    responses: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    tags: tuple[str, ...] = ()
    #: The resolved request body schema (JSON), if any.
    body_schema: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    body_required: bool = False

    @property
    def label(self) -> str:
        """``GET /v1/patients``: how Schemathesis names operations."""
        return f"{self.method.upper()} {self.path}"

    def requires(self, scheme: str) -> bool:
        """Whether every security alternative of the operation needs ``scheme``."""
        return scheme in self.schemes

    @property
    def path_parameters(self) -> tuple[str, ...]:
        """The names in the path template, in order."""
        return tuple(_PLACEHOLDER.findall(self.path))

    def parameter_example(self, name: str, location: str = "path") -> Any:
        """A parameter's documented example (``x`` when the spec gives none)."""
        for param in self.parameters:
            if param.get("in") == location and param.get("name") == name:
                return param.get("example", (param.get("schema") or {}).get("example", "x"))
        return "x"

    def path_with(self, values: dict[str, Any] | None = None, **more: Any) -> str:
        """The path with each parameter filled: from ``values``, else its documented example."""
        given = {**(values or {}), **more}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            value = given[name] if name in given else self.parameter_example(name)
            return quote(str(value), safe="")

        return _PLACEHOLDER.sub(fill, self.path)

    def example_path(self) -> str:
        """The path with each parameter replaced by its documented example."""
        return self.path_with()

    def query_schema(self, name: str) -> dict[str, Any]:
        """The (resolved) schema of query parameter ``name``; empty if there is none."""
        for param in self.parameters:
            if param.get("in") == "query" and param.get("name") == name:
                return param.get("schema") or {}
        return {}

    def query_names(self) -> tuple[str, ...]:
        return tuple(p["name"] for p in self.parameters if p.get("in") == "query")

    def query_default(self, name: str) -> Any:
        """The schema default of query parameter ``name``, or ``None``."""
        return self.query_schema(name).get("default")

    def query_maximum(self, name: str) -> int | None:
        """The schema ``maximum`` of query parameter ``name``, or ``None``."""
        maximum = self.query_schema(name).get("maximum")
        return maximum if isinstance(maximum, int) and not isinstance(maximum, bool) else None

    def query_enum(self, name: str) -> frozenset[str]:
        """The allowed values of query parameter ``name`` (empty: not an enum)."""
        return frozenset(v for v in self.query_schema(name).get("enum") or () if v is not None)

    @property
    def documented_statuses(self) -> tuple[str, ...]:
        """The response keys the operation documents (``200``, ``4XX``, ``default``)."""
        return tuple(self.responses)

    def documents_status(self, status: int) -> bool:
        """Whether ``status`` is documented exactly, by its range (``4XX``) or by ``default``."""
        keys = {k.upper() for k in self.responses}
        return str(status) in keys or f"{status // 100}XX" in keys or "DEFAULT" in keys


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
            media_type, example, schema, required = _body(spec, op)
            found.append(
                Operation(
                    method=method,
                    path=path,
                    operation_id=op.get("operationId", f"{method} {path}"),
                    schemes=_required_schemes(security),
                    scopes=tuple(
                        sorted({s for alt in security for ss in alt.values() for s in ss})
                    ),
                    parameters=tuple(_with_schema(spec, p) for p in params.values()),
                    body_example=example,
                    body_media_type=media_type,
                    responses={
                        str(status): resolve(spec, answer)
                        for status, answer in (op.get("responses") or {}).items()
                    },
                    tags=tuple(str(t) for t in op.get("tags") or ()),
                    body_schema=schema,
                    body_required=required,
                )
            )
    return found


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


def _body(spec: dict[str, Any], op: dict[str, Any]) -> tuple[str | None, Any, Any, bool]:
    """(media type, first example, schema, required) of the request body."""
    body = resolve(spec, op.get("requestBody")) if op.get("requestBody") else None
    if not body:
        return None, None, None, False
    required = bool(body.get("required"))
    for media_type, content in (body.get("content") or {}).items():
        schema = resolve(spec, content.get("schema", {}))
        examples = examples_of(spec, content)
        example = examples[0] if examples else schema.get("example")
        return media_type, example, schema, required
    return None, None, None, required
