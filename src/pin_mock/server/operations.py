"""Compiled operations: auth, validation and the handler call in one layer.

Connexion stays the spec-driven core: it loads and validates the spec, routes
requests (404, 405 with ``Allow``), serves the docs and runs the error
handlers. Its per-request pipeline after routing (security, parameter and body
validation, context, argument injection, response serialisation) is the cost
a profile shows: several ASGI layers, ``inspect.signature`` and fresh
validators on every request. This layer sits right after routing and does the
same work from operations compiled once at start-up; the layers behind it are
only reached by requests it does not know (none, for pin.yaml).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from connexion import NoContent
from connexion.context import _context, _receive, _scope
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pin_mock.server import errors
from pin_mock.server.auth import TokenService, authorize
from pin_mock.server.encoding import encode
from pin_mock.server.routing import OperationIdResolver
from pin_mock.server.validation import (
    check_parameter,
    compiled,
    parse_json_body,
    validate_json_body,
)

ROUTING = "connexion_routing"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Parameter:
    """One declared parameter with its schema, coercion and default."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    spec: dict[str, Any]

    @property
    def default(self) -> Any:
        return self.schema.get("default")

    def coerce(self, raw: str) -> Any:
        """Query strings are text; turn them into the schema's type when they fit."""
        kind = self.schema.get("type")
        try:
            if kind == "integer":
                return int(raw)
            if kind == "number":
                return float(raw)
        except ValueError:
            return raw
        if kind == "boolean" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        return raw


@dataclass
class Operation:
    """Everything a request to one operation needs, computed once."""

    operation_id: str
    handler: Callable[..., Any]
    scopes: list[str] | None
    query: list[Parameter] = field(default_factory=list)
    path: list[Parameter] = field(default_factory=list)
    body_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    body_required: bool = False
    produces: str = JSON
    accepts: frozenset[str] = frozenset()
    takes_any: bool = False


def compile_operations(spec: dict[str, Any], resolver: OperationIdResolver) -> dict[str, Operation]:
    """Compile every operation of a dereferenced spec, keyed by ``operationId``."""
    default_security = spec.get("security", [])
    operations = {}
    for path_item in spec["paths"].values():
        shared = path_item.get("parameters", [])
        for method, op in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            handler = resolver.find(op["operationId"])
            security = op.get("security", default_security)
            scopes = (
                None
                if not security
                else sorted({s for req in security for v in req.values() for s in v})
            )
            compiled_op = Operation(op["operationId"], handler, scopes)
            for param in [*shared, *op.get("parameters", [])]:
                schema = param.get("schema", {})
                compiled(schema)  # warm the validator cache
                entry = Parameter(
                    param["name"], param["in"], bool(param.get("required")), schema, param
                )
                if param["in"] == "query":
                    compiled_op.query.append(entry)
                elif param["in"] == "path":
                    compiled_op.path.append(entry)
            body = op.get("requestBody")
            if body:
                compiled_op.body_required = bool(body.get("required"))
                compiled_op.body_types = {
                    media: content.get("schema", {}) for media, content in body["content"].items()
                }
                for schema in compiled_op.body_types.values():
                    compiled(schema, Draft4RequestValidator)
            ok = next((r for s, r in op["responses"].items() if s.startswith("2")), {})
            compiled_op.produces = next(iter(ok.get("content", {JSON: None})), JSON)
            signature = inspect.signature(handler)
            compiled_op.accepts = frozenset(signature.parameters)
            compiled_op.takes_any = any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
            )
            operations[op["operationId"]] = compiled_op
    return operations


class OperationMiddleware:
    """Serve routed requests from compiled operations (placed right after routing)."""

    def __init__(
        self, app: ASGIApp, *, operations: dict[str, Operation], tokens: TokenService
    ) -> None:
        self.app = app
        self.operations = operations
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get(ROUTING) if scope["type"] == "http" else None
        operation = self.operations.get(routing.get("operation_id")) if routing else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        claims = authorize(self.tokens, headers.get("authorization", ""), operation.scopes)
        kwargs = self._parameters(operation, scope)
        if operation.body_types:
            kwargs["body"] = await self._body(operation, headers, receive)
        # Handlers reach the caller and the request through Connexion's context.
        _context.set({"user": claims.get("sub"), "token_info": claims} if claims else {})
        _scope.set(scope)
        _receive.set(receive)
        if not operation.takes_any:
            kwargs = {k: v for k, v in kwargs.items() if k in operation.accepts}
        result = operation.handler(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        await _respond(result, operation, scope, receive, send)

    @staticmethod
    def _parameters(operation: Operation, scope: Scope) -> dict[str, Any]:
        values: dict[str, Any] = {}
        raw_query = scope.get("query_string", b"")
        query = parse_qs(raw_query.decode("latin-1"), keep_blank_values=True) if raw_query else {}
        known = {p.name for p in operation.query}
        for name, given in query.items():
            if name not in known:
                raise errors.InvalidParameter(
                    name,
                    given[-1] if len(given) == 1 else given,
                    f"Unknown query parameter '{name}'.",
                )
        for param in operation.query:
            given = query.get(param.name)
            value = param.coerce(given[-1]) if given else None
            check_parameter(param.spec, value)
            values[param.name] = param.default if value is None else value
        path_params = scope.get("path_params", {})
        for param in operation.path:
            value = path_params.get(param.name)
            check_parameter(param.spec, value)
            values[param.name] = value
        return {k: v for k, v in values.items() if v is not None}

    @staticmethod
    async def _body(operation: Operation, headers: dict[str, str], receive: Receive) -> Any:
        media_type, _, params = headers.get("content-type", "").partition(";")
        media_type = media_type.strip().lower() or next(iter(operation.body_types))
        schema = operation.body_types.get(media_type)
        if schema is None:
            raise errors.UnsupportedMediaType(
                f"Unsupported media type {media_type!r}: send the body as "
                f"{' or '.join(operation.body_types)}.",
                {"content_type": media_type},
            )
        raw = await _read(receive)
        if media_type == FORM:
            return _form(raw, schema)
        charset = params.partition("charset=")[2].strip() or "utf-8"
        body = parse_json_body(raw, charset)
        if body is None and not operation.body_required:
            return None
        validate_json_body(schema, body)
        return body


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _form(raw: bytes, schema: dict[str, Any]) -> dict[str, Any]:
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.InvalidRequest("The form body is malformed.") from exc
    extra = sorted(set(fields) - set(schema.get("properties", {})))
    if extra:
        raise errors.InvalidParameter(extra[0], None, f"Unknown field(s): {', '.join(extra)}.")
    return {name: values[-1] for name, values in fields.items()}


async def _respond(
    result: Any, operation: Operation, scope: Scope, receive: Receive, send: Send
) -> None:
    if isinstance(result, Response):
        await result(scope, receive, send)
        return
    status, headers = 200, {}
    if isinstance(result, ConnexionResponse):
        status = result.status_code
        headers = dict(result.headers or {})
        if result.content_type:
            headers.setdefault("content-type", result.content_type)
        result = result.body
    elif isinstance(result, tuple):
        result, status, *rest = result
        headers = dict(rest[0]) if rest else {}
    if result is NoContent or result is None:
        body = b""
    elif isinstance(result, bytes | str):
        body = result.encode() if isinstance(result, str) else result
        if not any(k.lower() == "content-type" for k in headers):
            headers["content-type"] = operation.produces
    else:
        body = encode(result)
        if not any(k.lower() == "content-type" for k in headers):
            headers["content-type"] = JSON
    await Response(body, status_code=status, headers=headers)(scope, receive, send)
