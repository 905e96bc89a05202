"""Compiled operations: scopes, parameters, body, the handler call and the answer.

Connexion loads and validates the spec, routes requests (404, 405), serves the
docs and runs the error handlers and the lifespan. Its per-request pipeline
after routing (security, parameter and body validation, context, argument
injection, serialisation) was the cost a profile showed: several ASGI layers,
``inspect.signature`` and fresh validators on every request. So it is not in
the stack at all (``app.py``); this layer, right after routing, does that work
from operations compiled once at start-up.

Handlers are plain functions found by ``operationId`` (``routing.py``). They
receive the declared parameters (``body`` for a request body) and, if they
declare them, ``caller`` (the ``Caller`` of ``domain/callers.py``) and any of
the sandbox's services by name (``dependencies``: ``store``, ``events``,
``reports``, ``clock``..., the fields of ``services.Services``), so each handler
states exactly what it uses. They return a body, ``(body, status)``,
``(body, status, headers)`` or a Starlette ``Response``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from connexion.json_schema import Draft4RequestValidator
from connexion.middleware.abstract import ROUTING_CONTEXT
from jsonschema import Draft4Validator
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

import pin_mock.server.errors as errors
from pin_mock.server.encoding import encode
from pin_mock.server.pipeline.authentication import caller_of
from pin_mock.server.pipeline.routing import OperationIdResolver
from pin_mock.server.pipeline.validation import (
    check_cross_field,
    check_parameter,
    compile_validator,
    parse_integer,
    parse_json_body,
    parse_number,
    validate_json_body,
)

#: Where Connexion's router leaves the matched ``operation_id`` in the ASGI scope.
ROUTING = ROUTING_CONTEXT
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
#: The most fields a form body may have (the token request has four).
MAX_FORM_FIELDS = 16


@dataclass
class Parameter:
    """One declared parameter with its schema, coercion and default."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    spec: dict[str, Any]
    validator: Draft4Validator

    @property
    def default(self) -> Any:
        return self.schema.get("default")

    def coerce(self, raw: str) -> Any:
        """Query strings are text; turn them into the schema's type when written as one."""
        kind = self.schema.get("type")
        if kind == "integer":
            return parse_integer(raw, self.name)
        if kind == "number":
            return parse_number(raw)
        if kind == "boolean" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        return raw


@dataclass
class Operation:
    """Everything a request to one operation needs, computed once."""

    operation_id: str
    path_template: str
    #: The operation as the dereferenced spec has it (the Prefer layer reads its responses).
    definition: dict[str, Any]
    handler: Callable[..., Any]
    scopes: list[str] | None
    query: list[Parameter] = field(default_factory=list)
    path: list[Parameter] = field(default_factory=list)
    body_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    body_validators: dict[str, Draft4Validator] = field(default_factory=dict)
    body_required: bool = False
    produces: str = JSON
    accepts: frozenset[str] = frozenset()
    takes_any: bool = False

    @property
    def cross_field_rules(self) -> list[dict[str, Any]]:
        """The spec's ``x-cross-field-rules`` for this operation (checked after the schemas)."""
        return self.definition.get("x-cross-field-rules", [])


def compile_operations(spec: dict[str, Any], resolver: OperationIdResolver) -> dict[str, Operation]:
    """Compile every operation of a dereferenced spec, keyed by ``operationId``."""
    operations = {}
    for template, path_item in spec["paths"].items():
        for method, definition in path_item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operation = _compile(template, path_item, definition, spec, resolver)
                operations[operation.operation_id] = operation
    return operations


def scopes_of(definition: dict[str, Any], spec: dict[str, Any]) -> list[str] | None:
    """The scopes an operation requires; None for a public one (``security: []``)."""
    security = definition.get("security", spec.get("security", []))
    if not security:
        return None
    return sorted({scope for requirement in security for v in requirement.values() for scope in v})


def _compile(
    template: str,
    path_item: dict[str, Any],
    definition: dict[str, Any],
    spec: dict[str, Any],
    resolver: OperationIdResolver,
) -> Operation:
    handler = resolver.find(definition["operationId"])
    operation = Operation(
        definition["operationId"], template, definition, handler, scopes_of(definition, spec)
    )
    for param in [*path_item.get("parameters", []), *definition.get("parameters", [])]:
        schema = param.get("schema", {})
        required = bool(param.get("required"))
        entry = Parameter(
            param["name"], param["in"], required, schema, param, compile_validator(schema)
        )
        if param["in"] == "query":
            operation.query.append(entry)
        elif param["in"] == "path":
            operation.path.append(entry)
    body = definition.get("requestBody")
    if body:
        operation.body_required = bool(body.get("required"))
        operation.body_types = {
            media: content.get("schema", {}) for media, content in body["content"].items()
        }
        operation.body_validators = {
            media: compile_validator(schema, Draft4RequestValidator)
            for media, schema in operation.body_types.items()
        }
    ok = next((r for s, r in definition["responses"].items() if s.startswith("2")), {})
    operation.produces = next(iter(ok.get("content", {JSON: None})), JSON)
    signature = inspect.signature(handler)
    operation.accepts = frozenset(signature.parameters)
    operation.takes_any = any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
    )
    return operation


class OperationMiddleware:
    """Serve routed requests from compiled operations (placed right after routing)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        operations: Mapping[str, Operation],
        dependencies: Mapping[str, Any],
    ) -> None:
        self.app = app
        self.operations = operations
        # What each handler names of the services, picked once: one dict update a request.
        self._inject = {
            op_id: {name: value for name, value in dependencies.items() if name in op.accepts}
            for op_id, op in operations.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get(ROUTING) if scope["type"] == "http" else None
        operation = self.operations.get(routing.get("operation_id")) if routing else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        caller = caller_of(scope)
        caller.require(operation.scopes)
        kwargs = self._parameters(operation, scope)
        if operation.body_types:
            kwargs["body"] = await self._body(operation, scope, receive)
        check_cross_field(operation.cross_field_rules, kwargs, kwargs.get("body"))
        kwargs.update(self._inject[operation.operation_id])
        kwargs["caller"] = caller
        if "accept" in operation.accepts:  # a handler that negotiates its media type
            kwargs["accept"] = next(
                (v.decode("latin-1") for k, v in scope["headers"] if k == b"accept"), None
            )
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
            shown = name[:100]
            if name not in known:
                raise errors.InvalidParameter(
                    shown,
                    given[-1] if len(given) == 1 else given,
                    f"Unknown query parameter '{shown}'.",
                )
            if len(given) > 1:
                raise errors.InvalidParameter(
                    shown, given, f"Query parameter '{shown}' is given more than once."
                )
        for param in operation.query:
            given = query.get(param.name)
            value = param.coerce(given[0]) if given else None
            check_parameter(param.spec, param.validator, value)
            values[param.name] = param.default if value is None else value
        path_params = scope.get("path_params", {})
        for param in operation.path:
            value = path_params.get(param.name)
            check_parameter(param.spec, param.validator, value)
            values[param.name] = value
        return {k: v for k, v in values.items() if v is not None}

    @staticmethod
    async def _body(operation: Operation, scope: Scope, receive: Receive) -> Any:
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        media_type, *params = content_type.decode("latin-1").split(";")
        media_type = media_type.strip().lower() or next(iter(operation.body_types))
        schema = operation.body_types.get(media_type)
        if schema is None:
            shown = media_type[:100]
            raise errors.UnsupportedMediaType(
                f"Unsupported media type {shown!r}: send the body as "
                f"{' or '.join(operation.body_types)}.",
                {"content_type": shown},
            )
        raw = await _read(receive)
        if media_type == FORM:
            return _form(raw, schema)
        charset = next(
            (v for k, _, v in (p.strip().partition("=") for p in params) if k.lower() == "charset"),
            "utf-8",
        )
        body = parse_json_body(raw, charset)
        if body is None and not operation.body_required:
            return None
        validate_json_body(operation.body_validators[media_type], body)
        return body


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _form(raw: bytes, schema: dict[str, Any]) -> dict[str, Any]:
    # The body is at most max_form_bytes (request_limits.py); the fields are bounded too.
    if raw.count(b"&") >= MAX_FORM_FIELDS:
        raise errors.InvalidRequest(
            f"The form body has more than {MAX_FORM_FIELDS} fields.",
            {"max_fields": MAX_FORM_FIELDS},
        )
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.InvalidRequest("The form body is malformed.") from exc
    extra = sorted(set(fields) - set(schema.get("properties", {})))
    if extra:
        raise errors.InvalidParameter(
            extra[0][: errors.QUOTE_CHARS], None, f"Unknown field(s): {_names(extra)}."
        )
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        # RFC 6749 section 3.2: request parameters must not be included more than once.
        raise errors.InvalidParameter(
            repeated[0][: errors.QUOTE_CHARS],
            None,
            f"Field(s) sent more than once: {_names(repeated)}.",
        )
    return {name: values[0] for name, values in fields.items()}


def _names(names: list[str], shown: int = 5) -> str:
    """Field names as an error quotes them: a few, each cut like any quoted value."""
    listed = ", ".join(name[: errors.QUOTE_CHARS // 2] for name in names[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


async def _respond(
    result: Any, operation: Operation, scope: Scope, receive: Receive, send: Send
) -> None:
    if isinstance(result, Response):
        await result(scope, receive, send)
        return
    status, headers = 200, {}
    if isinstance(result, tuple):
        result, status, *rest = result
        headers = dict(rest[0]) if rest else {}
    if result is None:
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
