"""The contract the kit tests against: the facts the kit reads from the spec it is given.

Every fact a rule or a probe needs about PIN comes from the spec it is given,
not from the sandbox: the error codes (the ``error.code`` enum), the RFC 6749
codes of the token endpoint, the OAuth scheme, its token URL and scopes, each
operation's required scopes, parameter enums, defaults and maximums. So the kit
works unchanged against a revised spec (a new ``data_type``, a larger page).

``openapi.py`` parses a file and follows ``$ref``s, ``operation.py`` reads the
operations; ``Spec`` wraps the parsed document with the facts, computed once
per document (``Spec.of``). Nothing here imports the server.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pin_mock.contract.openapi import (
    SpecError,
    bundled_spec_path,
    examples_of,
    load_spec,
    resolve,
)
from pin_mock.contract.operation import HTTP_METHODS, Operation, operations

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "Spec",
    "SpecError",
    "bundled_spec_path",
    "examples_of",
    "load_spec",
    "operations",
    "resolve",
    "token_url",
]


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

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        """Each path template as a pattern, the most literal first (fewest parameters)."""
        templates = sorted({op.path for op in self.operations}, key=lambda t: (t.count("{"), t))
        return [
            (re.compile(re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(t)) + "/?"), t)
            for t in templates
        ]

    def template_of(self, path: str) -> str | None:
        """The spec's path template a concrete request path matches (any method), if any."""
        for pattern, template in self._templates:
            if pattern.fullmatch(path):
                return template
        return None

    def label_of(self, method: str, path: str) -> str:
        """``METHOD /template`` for a request: never a concrete id, so names stay stable.

        A path outside the spec keeps its shape with each id-like segment as ``{id}``.
        """
        template = self.template_of(path)
        if template is None:
            template = "/".join(
                "{id}" if re.search(r"\d", part) and len(part) > 6 else part
                for part in path.split("/")
            )
        return f"{method.upper()} {template}"

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
                    for example in examples_of(self.document, content):
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

    @cached_property
    def exact_messages(self) -> frozenset[str]:
        """Error messages whose wording the spec makes part of the contract (``x-exact-wording``)."""
        found: set[str] = set()
        pending: list[Any] = [self.document]
        while pending:
            node = pending.pop()
            if isinstance(node, dict):
                wording = node.get("x-exact-wording")
                if isinstance(wording, list):
                    found.update(w for w in wording if isinstance(w, str))
                pending.extend(node.values())
            elif isinstance(node, list):
                pending.extend(node)
        return frozenset(found)

    def _error_schemas(self, op: Operation) -> list[dict[str, Any]]:
        schemas = []
        for status, answer in op.responses.items():
            if status.isdigit() and int(status) < 400:
                continue
            for content in (answer.get("content") or {}).values():
                schema = resolve(self.document, content.get("schema") or {})
                schemas.append(schema)
        return schemas
