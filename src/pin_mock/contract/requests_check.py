"""The request side of the contract: what an integrator's client sends (``pin_request_conformance``).

The validating proxy judges requests too when asked (``--judge requests`` or
``both``): a request to an operation the spec does not have, a required
parameter missing, a parameter the operation does not document (PIN refuses
them), a parameter value its schema refuses (query strings read as the
schema's type), a JSON body its schema refuses, or a body sent as a media
type the operation does not take. Each is one message.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pin_mock.contract.openapi import openapi_to_json_schema
from pin_mock.contract.spec import Spec

CHECK = "pin_request_conformance"


def _typed(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer" and value.lstrip("-").isdigit():
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    except ValueError:
        pass
    return value


def _errors(schema: dict[str, Any], value: Any, components: dict[str, Any]) -> list[str]:
    import jsonschema_rs  # loaded on use (the webhook probe's validator too)

    document = {**openapi_to_json_schema(schema), "components": components}
    return [e.message for e in jsonschema_rs.Draft4Validator(document).iter_errors(value)][:2]


def problems(
    spec: Spec, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> list[str]:
    """What is wrong with a request, by the spec ([] when it conforms)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    template = spec.template_of(path)
    op = spec.find(method, template) if template else None
    if op is None:
        if template is None and not spec.in_api(path) and not spec.is_token_endpoint(path):
            return []  # not the API's (a sandbox's own route, a docs page)
        return [f"{method.upper()} {template or path} is not an operation of the spec"]
    components = openapi_to_json_schema(spec.document.get("components") or {})
    lowered = {k.lower(): v for k, v in headers.items()}
    query = parse_qsl(parts.query, keep_blank_values=True)
    found = []
    documented = {(p.get("in"), p.get("name")) for p in op.parameters}
    for name, _ in query:
        if ("query", name) not in documented:
            found.append(f"query parameter {name!s} is not documented for {op.label}")
    values = dict(query)
    for param in op.parameters:
        where, name = param.get("in"), str(param.get("name"))
        raw = (
            values.get(name)
            if where == "query"
            else lowered.get(name.lower())
            if where == "header"
            else None
        )
        if raw is None:
            if param.get("required") and where in ("query", "header"):
                found.append(f"the required {where} parameter {name} is missing")
            continue
        for error in _errors(
            param.get("schema") or {}, _typed(raw, param.get("schema") or {}), components
        ):
            found.append(f"{where} parameter {name}: {error}")
    media = lowered.get("content-type", "").split(";")[0].strip().lower()
    if body and op.body_media_type and media and media != op.body_media_type:
        found.append(f"the body is sent as {media}; {op.label} takes {op.body_media_type}")
    elif body and op.body_media_type == "application/json" and op.body_schema is not None:
        try:
            document = json.loads(body)
        except ValueError:
            found.append("the body is not JSON")
        else:
            found += [f"body: {e}" for e in _errors(op.body_schema, document, components)]
    elif not body and op.body_required:
        found.append(f"{op.label} requires a body")
    return found
