"""Why a request was refused, in the words of the spec.

For a 4xx the journal keeps the answer's own ``code`` and ``message`` (they
already name the parameter and what it failed) and adds what the spec says of
that parameter: where it goes, its rule (type, bounds, pattern, allowed
values) and its description. For a 404 on a path no operation has, it names
the nearest documented operation instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import orjson


@dataclass(frozen=True)
class Documented:
    """One operation as the spec documents it (what a reason may quote)."""

    operation_id: str
    method: str
    template: str
    summary: str = ""
    #: Parameter name -> (where it goes, its schema, its description).
    parameters: dict[str, tuple[str, dict[str, Any], str]] = field(default_factory=dict)
    #: The JSON body's schema, if it takes one.
    body: dict[str, Any] | None = None


def rule_of(schema: dict[str, Any]) -> str:
    """A schema's rule in a few words: ``integer, 1 to 100, default 20``."""
    words = [schema.get("type", "any")]
    if "format" in schema:
        words[0] += f" ({schema['format']})"
    if "enum" in schema:
        words.append("one of " + ", ".join(str(v) for v in schema["enum"]))
    for low, high, unit in (
        ("minimum", "maximum", ""),
        ("minLength", "maxLength", " characters"),
        ("minItems", "maxItems", " items"),
    ):
        if low in schema and high in schema:
            words.append(f"{schema[low]} to {schema[high]}{unit}")
        elif low in schema:
            words.append(f"at least {schema[low]}{unit}")
        elif high in schema:
            words.append(f"at most {schema[high]}{unit}")
    if "pattern" in schema:
        words.append(f"matching {schema['pattern']}")
    if schema.get("nullable"):
        words.append("or null")
    if "default" in schema:
        words.append(f"default {schema['default']}")
    return ", ".join(words)


class Reasons:
    """Reasons for refused requests, from the documented operations."""

    def __init__(self, operations: list[Documented]) -> None:
        self.operations = {op.operation_id: op for op in operations}
        self._templates = [
            (op, re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(op.template)) + "$"))
            for op in operations
        ]

    def reason(
        self, status: int, operation_id: str | None, method: str, path: str, body: bytes
    ) -> dict[str, Any] | None:
        """The reason for a ``status`` answer of ``body``; None below 400 or from 500."""
        if not 400 <= status < 500:
            return None
        error = _error_of(body)
        reason: dict[str, Any] = {"code": error.get("code"), "message": error.get("message")}
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
        documented = self.operations.get(operation_id or "")
        parameter = details.get("parameter")
        if documented is not None and isinstance(parameter, str):
            reason.update(self._parameter(documented, parameter))
        if documented is None and status in (404, 405):
            nearest = self.nearest(method, path)
            if nearest is not None:
                reason["nearest_operation"] = nearest
        return reason

    @staticmethod
    def _parameter(op: Documented, name: str) -> dict[str, Any]:
        found: dict[str, Any] = {"parameter": name}
        if name in op.parameters:
            where, schema, description = op.parameters[name]
            found.update(location=where, rule=rule_of(schema))
            if description:
                found["documented"] = description
            return found
        schema = _field(op.body, name.split("."))
        if schema is not None:
            found.update(location="body", rule=rule_of(schema))
            if schema.get("description"):
                found["documented"] = schema["description"]
        return found

    def nearest(self, method: str, path: str) -> dict[str, Any] | None:
        """The documented operation whose path (and method) is closest to ``path``."""
        best, best_score = None, 0.0
        segments = path.strip("/").split("/")
        for op, pattern in self._templates:
            template = op.template.strip("/").split("/")
            # Template parameters take the request's segment where there is one.
            filled = [
                (segments[i] if i < len(segments) else part) if part.startswith("{") else part
                for i, part in enumerate(template)
            ]
            score = SequenceMatcher(None, path.strip("/"), "/".join(filled)).ratio()
            if pattern.match(path):
                score += 1.0  # the path is right, only the method is not
            if op.method == method.upper():
                score += 0.05
            if score > best_score:
                best, best_score = op, score
        if best is None or best_score < 0.4:
            return None
        return {
            "operation": best.operation_id,
            "method": best.method,
            "path": best.template,
            "summary": best.summary,
        }


def _error_of(body: bytes) -> dict[str, Any]:
    """PIN's envelope ``{"error": {...}}``, or OAuth's ``{"error", "error_description"}``."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    error = parsed.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str):  # RFC 6749 section 5.2
        return {"code": error, "message": parsed.get("error_description")}
    return {}


def _field(schema: dict[str, Any] | None, path: list[str]) -> dict[str, Any] | None:
    """The schema of a body field named by its dotted path (array indexes as numbers)."""
    for step in path:
        if schema is None:
            return None
        if step.isdigit() and "items" in schema:
            schema = schema["items"]
            continue
        for option in [schema, *schema.get("allOf", []), *schema.get("anyOf", [])]:
            if step in option.get("properties", {}):
                schema = option["properties"][step]
                break
        else:
            return None
    return schema
