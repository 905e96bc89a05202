"""The contract the kit tests against: loading ``pin.yaml`` and the facts the kit reads from it.

Every fact a rule or a probe needs about PIN comes from the spec it is given,
not from the sandbox: the error codes (the ``error.code`` enum), the RFC 6749
codes of the token endpoint, the OAuth scheme, its token URL and scopes, each
operation's required scopes, parameter enums, defaults and maximums. So the kit
works unchanged against a revised spec (a new ``data_type``, a larger page).

``load_spec`` parses a file (cached per file version); ``Spec`` wraps the parsed
document with those facts, computed once per document (``Spec.of``).
Nothing here imports the server: the kit tests any PIN implementation alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecError(Exception):
    """The spec cannot be found, read or understood (a usage problem: exit 2)."""


def bundled_spec_path() -> Path:
    """The spec shipped with pin-mock: in the wheel, or ``openapi/pin.yaml`` in a checkout."""
    from pin_mock._bundled import spec_path  # stdlib only: the one module both halves share

    return spec_path()


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
    #: Scopes the operation's security asks for, over every scheme and alternative.
    scopes: tuple[str, ...] = ()
    parameters: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    body_example: Any = field(default=None, repr=False)
    body_media_type: str | None = None
    #: The resolved ``responses`` object, by status (``"200"``, ``"4XX"``, ``"default"``).
    responses: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

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

    def query_schema(self, name: str) -> dict[str, Any]:
        """The (resolved) schema of query parameter ``name``; empty if there is none."""
        for param in self.parameters:
            if param.get("in") == "query" and param.get("name") == name:
                return param.get("schema") or {}
        return {}

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
                )
            )
    return found


def token_url(spec: dict[str, Any], scheme: str | None = None) -> str:
    """The ``clientCredentials`` token URL of ``scheme`` (often relative, ``/oauth/token``)."""
    facts = Spec.of(spec)
    name = scheme or facts.oauth2_scheme
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    try:
        return schemes[name]["flows"]["clientCredentials"]["tokenUrl"]
    except (KeyError, TypeError):
        raise SpecError(f"the spec has no clientCredentials tokenUrl for {name!r}") from None


class Spec:
    """A parsed spec and the facts the kit reads from it (each computed once)."""

    _BY_IDENTITY: dict[int, Spec] = {}

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    @classmethod
    def of(cls, document: dict[str, Any]) -> Spec:
        """The ``Spec`` of a parsed document, shared by every caller that holds that document."""
        # Keyed by identity and holding the document, so an id cannot be reused while cached.
        found = cls._BY_IDENTITY.get(id(document))
        if found is None or found.document is not document:
            found = cls._BY_IDENTITY[id(document)] = cls(document)
        return found

    @classmethod
    def load(cls, path: Path | str) -> Spec:
        """The ``Spec`` of a file (see ``load_spec``)."""
        return cls.of(load_spec(path))

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(operations(self.document))

    @cached_property
    def _index(self) -> dict[tuple[str, str], Operation]:
        return {(op.method, op.path): op for op in self.operations}

    def find(self, method: str, template: str) -> Operation | None:
        """The operation for a method and path template, if the spec has it."""
        return self._index.get((method.lower(), template))

    def by_id(self, operation_id: str) -> Operation | None:
        """The operation with this ``operationId``, if the spec has it."""
        return next((op for op in self.operations if op.operation_id == operation_id), None)

    # --- OAuth 2.0 -----------------------------------------------------------------------

    @cached_property
    def oauth2_scheme(self) -> str:
        """The name of the security scheme with a ``clientCredentials`` flow."""
        schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        for name, scheme in schemes.items():
            scheme = resolve(self.document, scheme)
            if scheme.get("type") == "oauth2" and "clientCredentials" in (
                scheme.get("flows") or {}
            ):
                return name
        return "oauth2"

    @cached_property
    def token_url(self) -> str:
        return token_url(self.document, self.oauth2_scheme)

    @cached_property
    def token_path(self) -> str:
        """The path of the token endpoint (``/oauth/token``), to recognise its answers."""
        try:
            return urlsplit(self.token_url).path.rstrip("/") or "/"
        except SpecError:
            return ""

    @cached_property
    def scopes(self) -> tuple[str, ...]:
        """Every scope the OAuth scheme declares and the operations ask for, sorted."""
        schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        scheme = resolve(self.document, schemes.get(self.oauth2_scheme) or {})
        flow = (scheme.get("flows") or {}).get("clientCredentials") or {}
        declared = set(flow.get("scopes") or {})
        return tuple(sorted(declared.union(*(op.scopes for op in self.operations))))

    @cached_property
    def token_operation(self) -> Operation | None:
        """The spec's operation for the token endpoint, if it documents one."""
        return next(
            (op for op in self.operations if op.method == "post" and op.path == self.token_path),
            None,
        )

    @cached_property
    def protected(self) -> tuple[Operation, ...]:
        """The operations every caller must authenticate for."""
        return tuple(op for op in self.operations if op.requires(self.oauth2_scheme))

    # --- Where the API is ----------------------------------------------------------------

    @cached_property
    def api_prefix(self) -> str:
        """The path prefix the protected operations share (``/v1``): the versioned API."""
        paths = [op.path.strip("/").split("/") for op in self.protected]
        if not paths:
            return "/"
        common: list[str] = []
        for parts in zip(*paths, strict=False):
            if len(set(parts)) != 1 or parts[0].startswith("{"):
                break
            common.append(parts[0])
        # The last shared segment of one-resource APIs is the resource, not the version.
        if len(common) == min(len(p) for p in paths):
            common = common[:-1]
        return "/" + "/".join(common)

    def in_api(self, template: str) -> bool:
        """Whether a request path is under the versioned API (``/v1``, known route or not)."""
        prefix = self.api_prefix.rstrip("/")
        return not prefix or template == prefix or template.startswith(prefix + "/")

    def is_token_endpoint(self, template: str) -> bool:
        """Whether a request path is the OAuth token endpoint."""
        return bool(self.token_path) and template.rstrip("/") == self.token_path

    def body_enum(self, op: Operation, name: str) -> tuple[str, ...]:
        """The ``enum`` of property ``name`` of the operation's JSON request body (or of its items)."""
        raw = resolve(self.document, (self.document["paths"][op.path] or {}).get(op.method) or {})
        body = resolve(self.document, raw.get("requestBody") or {})
        content = (body.get("content") or {}).get("application/json") or {}
        schema = resolve(self.document, content.get("schema") or {})
        prop = resolve(self.document, (schema.get("properties") or {}).get(name) or {})
        if prop.get("type") == "array":
            prop = resolve(self.document, prop.get("items") or {})
        return tuple(v for v in prop.get("enum") or () if isinstance(v, str))

    # --- Error codes ---------------------------------------------------------------------

    @cached_property
    def error_codes(self) -> frozenset[str]:
        """The ``error.code`` values the API's error envelope allows."""
        codes: set[str] = set()
        for op in self.operations:
            if op is not self.token_operation:
                for schema in self._error_schemas(op):
                    error = resolve(self.document, (schema.get("properties") or {}).get("error"))
                    code = ((error or {}).get("properties") or {}).get("code")
                    codes.update(resolve(self.document, code or {}).get("enum") or ())
        return frozenset(c for c in codes if isinstance(c, str))

    @cached_property
    def error_codes_by_status(self) -> dict[int, frozenset[str]]:
        """The ``error.code`` values the spec's own error examples pair with each status."""
        found: dict[int, set[str]] = {}
        for op in self.operations:
            for status, answer in op.responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                for content in (answer.get("content") or {}).values():
                    for example in _examples(self.document, content):
                        error = example.get("error") if isinstance(example, dict) else None
                        # The token endpoint's errors are strings (RFC 6749): not envelope codes.
                        if isinstance(error, dict) and isinstance(error.get("code"), str):
                            found.setdefault(int(status), set()).add(error["code"])
        return {status: frozenset(codes) for status, codes in found.items()}

    @cached_property
    def oauth_error_codes(self) -> frozenset[str]:
        """The RFC 6749 ``error`` values the token endpoint's error answers allow."""
        codes: set[str] = set()
        if self.token_operation is not None:
            for schema in self._error_schemas(self.token_operation):
                error = resolve(self.document, (schema.get("properties") or {}).get("error") or {})
                if error.get("type") == "string":
                    codes.update(error.get("enum") or ())
        return frozenset(c for c in codes if isinstance(c, str))

    def _error_schemas(self, op: Operation) -> list[dict[str, Any]]:
        schemas = []
        for status, answer in op.responses.items():
            if status.isdigit() and int(status) < 400:
                continue
            for content in (answer.get("content") or {}).values():
                schema = resolve(self.document, content.get("schema") or {})
                schemas.append(schema)
        return schemas


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


def _examples(spec: dict[str, Any], content: dict[str, Any]) -> list[Any]:
    """The example values of one media type: ``example``, each of ``examples``."""
    found = [content["example"]] if "example" in content else []
    for example in (content.get("examples") or {}).values():
        example = resolve(spec, example)
        if "value" in example:
            found.append(example["value"])
    return found


#: The example values of one media type (public name for the probes).
examples_of = _examples


def _body_example(spec: dict[str, Any], op: dict[str, Any]) -> tuple[str | None, Any]:
    body = resolve(spec, op.get("requestBody")) if op.get("requestBody") else None
    if not body:
        return None, None
    for media_type, content in (body.get("content") or {}).items():
        examples = _examples(spec, content)
        if examples:
            return media_type, examples[0]
        return media_type, resolve(spec, content.get("schema", {})).get("example")
    return None, None
