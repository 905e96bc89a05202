"""Request validation driven by the spec, with errors that name the input.

Connexion's own validators build a new jsonschema validator (and deep-copy the
schema) per parameter per request, and report multi-line jsonschema dumps.
These functions validate against validators the operation layer compiles once
per operation at start-up, and raise ``InvalidParameter`` with
``details.parameter`` and ``details.value``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from jsonschema import Draft4Validator, ValidationError

import pin_mock.server.digits as digits
from pin_mock.server.domain.dates import check_date_range
from pin_mock.server.errors import (
    QUOTE_CHARS,
    InvalidParameter,
    InvalidRequest,
    UnsupportedMediaType,
)
from pin_mock.server.pipeline.schema_flavour import FORMAT_CHECKER as _FORMAT_CHECKER
from pin_mock.server.pipeline.schema_flavour import compile_validator

__all__ = ["compile_validator"]  # compiled here for the operation layer (schema_flavour.py)

DATE_MESSAGE = "Invalid date format. Use YYYY-MM-DD."
DATE_RANGE = ("1900-01-01", "2100-12-31")
#: JSON nested deeper than this is refused: no PIN body needs more than a few levels.
MAX_JSON_DEPTH = 32
#: JSON is UTF-8 (RFC 8259 section 8.1); these are the names clients send for it.
_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}  # ASCII is a subset of UTF-8
# C0 and C1 control characters other than tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ASCII_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def parse_integer(raw: str, name: str = "value") -> int | str:
    """A query value as an integer if it is plain ASCII digits, else the text itself.

    ``int()`` also takes `` 10``, ``1_0``, Arabic-Indic digits and superscripts;
    a query parameter is only an integer when it is written as one, with at most
    ``digits.MAX_DIGITS`` digits (a longer one is 400 naming ``name``: ``int()``
    refuses 4,301 digits, and no parameter needs 19).
    """
    value = digits.integer(raw)
    if value is not None:
        return value
    if digits.too_long(raw):
        raise InvalidParameter(
            name, raw, f"'{name}' must be a whole number of at most {digits.MAX_DIGITS} digits."
        )
    return raw


def parse_number(raw: str) -> float | str:
    """A query value as a finite number if it is written as one, else the text itself."""
    if _ASCII_NUMBER.fullmatch(raw):
        number = float(raw)
        if number not in (float("inf"), float("-inf")):
            return number
    return raw


def check_text(name: str, value: str) -> None:
    """Text in a body (what the API stores): no control characters but tab and line
    breaks, as the spec's text patterns say (lone surrogates never get this far:
    the JSON parser refuses them). Query and path values are never stored, so
    they are left to their schemas."""
    found = _CONTROL.search(value)
    if found:
        raise InvalidParameter(
            name,
            value,
            f"'{name}' contains the control character U+{ord(found.group()):04X}.",
        )


def check_parameter(param: dict, validator: Draft4Validator, value: Any) -> None:
    """Validate one parameter value against its spec; ``InvalidParameter`` names it."""
    name = param["name"]
    if value is None:
        if param.get("required"):
            raise InvalidParameter(name, None, f"Missing required parameter '{name}'.")
        return
    error = next(iter(validator.iter_errors(value)), None)
    if error is None:
        return
    if validator.schema.get("format") == "date":
        if error.validator == "pattern" and _is_date(value):
            raise InvalidParameter(name, value, _range_message(name))
        raise InvalidParameter(name, value, DATE_MESSAGE)
    raise InvalidParameter(name, value, f"Invalid value for parameter '{name}': {describe(error)}.")


def parse_json_body(raw: bytes, charset: str | None = "utf-8") -> Any:
    """Decode a JSON body; anything but well-formed, bounded UTF-8 JSON is a clean 4xx."""
    if charset and charset.strip().strip('"').lower() not in _UTF8:
        raise UnsupportedMediaType(
            f"Unsupported charset {charset[:40]!r}: JSON bodies are UTF-8.",
            {"charset": charset[:40]},
        )
    if not raw.strip():
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The request body is not valid UTF-8 text.") from exc
    try:
        # orjson refuses lone surrogates, NaN/Infinity, numbers a double cannot hold
        # (1e400) and nesting beyond 1024 levels, where the stdlib parser would recurse.
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}.",
            {"line": exc.lineno, "column": exc.colno},
        ) from exc
    check_json(body)
    return body


def check_json(body: Any) -> None:
    """Depth and text of a decoded body, checked without recursion, in linear time.

    Where a value sits is kept as a link to its parent and spelled out only for
    an error: building ``a.b.c`` for every item would copy long keys once per
    item below them (quadratic in a body of long keys over a wide list).
    """
    if isinstance(body, str):
        check_text("body", body)
    if not isinstance(body, dict | list):
        return
    pending: list[tuple[Any, int, Any]] = [(body, 1, None)]
    while pending:
        value, depth, where = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidRequest(
                f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.",
                {"max_depth": MAX_JSON_DEPTH},
            )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:  # only containers and text need a second look
            if isinstance(item, str):
                if _CONTROL.search(item):
                    check_text(_spelled((where, key)), item)
            elif isinstance(item, dict | list):
                pending.append((item, depth + 1, (where, key)))


def _spelled(where: Any) -> str:
    """``(((None, "a"), "b"), 0)`` as ``a.b.0`` (``body`` for the body itself)."""
    keys: list[str] = []
    while where is not None:
        where, key = where
        keys.append(str(key))
    return ".".join(_cut(k) for k in reversed(keys)) or "body"


def _cut(key: str) -> str:
    """A client's key as an error names it: cut like a quoted value (a key may be 1 MB)."""
    return key if len(key) <= QUOTE_CHARS else key[:QUOTE_CHARS] + "..."


def validate_json_body(validator: Draft4Validator, body: Any) -> None:
    """Validate a decoded body; the first error becomes ``InvalidParameter`` naming the field."""
    if body is None:
        raise InvalidRequest("A JSON request body is required.")
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        raise body_error(error)


def body_error(error: ValidationError) -> InvalidParameter:
    """Turn a jsonschema error in a body into ``InvalidParameter`` naming the field."""
    if error.validator == "oneOf" and error.context:
        return _one_of_error(error)
    if error.validator == "anyOf" and error.context:
        # "X or null" (``anyOf: [X, NullValue]``): a value that is not null failed X, so
        # say what X wants rather than that no branch matched.
        value_branches = [
            e for e in error.context if e.schema_path and e.schema_path[0] != _null_branch(error)
        ]
        if value_branches:
            return body_error(min(value_branches, key=lambda e: -len(e.absolute_path)))
    path = [_cut(str(p)) for p in error.absolute_path]
    value: Any = error.instance
    if error.validator == "required":
        missing = [p for p in error.validator_value if p not in (error.instance or {})]
        path.append(missing[0] if missing else "?")
        return InvalidParameter(".".join(path), None, f"Missing required field '{'.'.join(path)}'.")
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        path.append(_cut(extra[0]) if extra else "?")
        name = ".".join(path)
        return InvalidParameter(
            name, error.instance.get(extra[0]) if extra else None, f"Unknown field '{name}'."
        )
    name = ".".join(path) or "body"
    if isinstance(value, dict | list):
        value = None
    date_format = error.schema.get("format") in ("date", "date-time")
    if error.validator == "pattern" and date_format and _is_date(str(value)[:10]):
        return InvalidParameter(name, value, _range_message(name))
    if error.validator == "format" and error.validator_value == "date":
        return InvalidParameter(name, value, f"Invalid date format for '{name}'. Use YYYY-MM-DD.")
    return InvalidParameter(name, value, f"Invalid value for '{name}': {describe(error)}.")


def describe(error: ValidationError) -> str:
    """What a value fails, without quoting the value (the details quote it, shortened)."""
    rule, limit = error.validator, error.validator_value
    simple = {
        "type": f"must be of type {limit}",
        "maxLength": f"must be at most {_count(limit, 'character')}",
        "minLength": f"must be at least {_count(limit, 'character')}",
        "maximum": f"must be at most {limit}",
        "minimum": f"must be at least {limit}",
        "maxItems": f"must have at most {_count(limit, 'item')}",
        "minItems": f"must have at least {_count(limit, 'item')}",
        "uniqueItems": "must not repeat items",
        "pattern": f"must match the pattern {limit}",
        "format": f"must be a valid {limit}",
    }
    if rule == "enum":
        return "must be one of: " + ", ".join(str(v) for v in limit)
    if rule in simple:
        return simple[rule]
    return f"fails the schema's '{rule}' rule"


def _count(number: object, noun: str) -> str:
    """``1 character``, ``64 characters``: the plural only where English has one."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _is_date(value: str) -> bool:
    return _FORMAT_CHECKER.conforms(value, "date")


def _range_message(name: str) -> str:
    return f"'{name}' must be a date from {DATE_RANGE[0]} to {DATE_RANGE[1]}."


def _null_branch(error: ValidationError) -> int | None:
    """The index of the branch of an ``anyOf`` that admits only null, if there is one."""
    for index, branch in enumerate(error.validator_value):
        if branch.get("enum") == [None]:
            return index
    return None


def _one_of_error(error: ValidationError) -> InvalidParameter:
    """Explain a failed ``oneOf`` by its discriminator (a property fixed by ``enum``)."""
    variants = error.validator_value
    instance = error.instance if isinstance(error.instance, dict) else {}
    discriminator = _discriminator(variants)
    if discriminator and discriminator in instance:
        chosen = instance[discriminator]
        allowed = [v["properties"][discriminator]["enum"][0] for v in variants]
        if chosen not in allowed:
            path = [_cut(str(p)) for p in error.absolute_path] + [discriminator]
            return InvalidParameter(
                ".".join(path), chosen, f"'{'.'.join(path)}' must be one of: {', '.join(allowed)}."
            )
        index = allowed.index(chosen)
        own = [e for e in error.context if e.schema_path and e.schema_path[0] == index]
        if own:
            return body_error(min(own, key=lambda e: -len(e.absolute_path)))
    if discriminator and discriminator not in instance:
        path = [_cut(str(p)) for p in error.absolute_path] + [discriminator]
        return InvalidParameter(".".join(path), None, f"Missing required field '{'.'.join(path)}'.")
    return body_error(min(error.context, key=lambda e: -len(e.absolute_path)))


def _discriminator(variants: list[dict]) -> str | None:
    candidates: set[str] | None = None
    for variant in variants:
        fixed = {
            name
            for name, prop in variant.get("properties", {}).items()
            if isinstance(prop.get("enum"), list) and len(prop["enum"]) == 1
        }
        candidates = fixed if candidates is None else candidates & fixed
    return sorted(candidates)[0] if candidates else None


def check_cross_field(rules: list[dict[str, Any]], query: dict[str, Any], body: Any) -> None:
    """An operation's ``x-cross-field-rules`` (rules a JSON schema cannot state).

    Each rule names fields as ``query.<name>`` or ``body.<path>``, applies when
    every ``when`` field has its given value, and is one of ``not-after`` (the
    date ``first`` is not after ``second``; the error names ``blame``),
    ``required`` and ``absent`` (of ``field``). The kit reads the same rules
    (``pin_mock.contract.checks.cross_field``).
    """
    sources = {"query": query, "body": body}
    for rule in rules:
        if any(_field(sources, name) != value for name, value in (rule.get("when") or {}).items()):
            continue
        kind = rule["rule"]
        if kind == "not-after":
            first = rule["first"].partition(".")[2]
            prefix = first.rpartition(".")[0] + "." if "." in first else ""
            blame = rule.get("blame", rule["first"]).rpartition(".")[2]
            check_date_range(
                _field(sources, rule["first"]),
                _field(sources, rule["second"]),
                prefix=prefix,
                blame=blame,
            )
            continue
        name = rule["field"].partition(".")[2]
        value = _field(sources, rule["field"])
        if kind == "required" and value in (None, ""):
            raise InvalidParameter(name, None, rule["description"])
        if kind == "absent" and value is not None:
            raise InvalidParameter(name, value, rule["description"])


def _field(sources: dict[str, Any], reference: str) -> Any:
    """The value at ``query.<name>`` or ``body.<a>.<b>``; None where anything is missing."""
    location, *path = reference.split(".")
    value = sources.get(location)
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value
