"""The jsonschema validators the sandbox compiles: OpenAPI's flavour, at linear cost.

``compile_validator`` builds, once per schema at start-up, a Draft 4 validator
that also checks formats (``date``, ``email``...), reads ``pattern`` as
ECMA-262 (as JSON Schema says) and lets ``nullable`` hold beside ``allOf``
(how the spec marks a nullable reference to a named schema).

Some of jsonschema's own keywords cost more than their input: ``uniqueItems``
compares every pair of items it cannot sort (8,000 mixed items held the event
loop for seconds), and the messages of ``type``, ``enum`` and
``additionalProperties`` quote the whole instance or every unexpected key,
once per ``oneOf`` variant. Here ``uniqueItems`` is linear and those messages
are short: ``validation.describe`` and ``body_error`` say what is wrong from
the error's keyword and value, never from its message.
"""

from __future__ import annotations

from numbers import Number
from typing import Any

from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators

from pin_mock.server.pipeline.patterns import matches

# Draft 4 checks no "date"; the full checker does (1985-02-30 is refused).
FORMAT_CHECKER = FormatChecker()


def compile_validator(
    schema: dict, cls: type[Draft4Validator] = Draft4Validator
) -> Draft4Validator:
    """A validator for ``schema`` in the sandbox's flavour (see the module's doc)."""
    return _openapi_flavour(cls)(schema, format_checker=FORMAT_CHECKER)


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Any:
    if isinstance(instance, str) and not matches(pattern, instance):
        yield ValidationError(f"does not match {pattern!r}")  # the value is not quoted


def _unique_items(validator: Any, unique: Any, instance: Any, schema: dict) -> Any:
    if unique and isinstance(instance, list):
        seen: set[Any] = set()
        for item in instance:
            key = _identity(item)
            if key in seen:
                yield ValidationError("has non-unique elements")
                return
            seen.add(key)


#: Draft 4's types as plain checks, what its type checker answers for decoded JSON
#: and query values (``int``, ``float``, ``str``...), without its per-call look-ups: a
#: body's every field is checked for its type (a create's validation: 30 -> 25 µs).
_DRAFT4_TYPES = {
    "string": lambda value: isinstance(value, str),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: not isinstance(value, bool) and isinstance(value, Number),
}


def _type(validator: Any, types: Any, instance: Any, schema: dict) -> Any:
    # jsonschema's message quotes the instance whole (a repr of a 1 MB list, once per
    # oneOf variant); describe() says what is wrong without quoting it.
    kinds = types if isinstance(types, list) else [types]
    plain = validator.TYPE_CHECKER is Draft4Validator.TYPE_CHECKER
    for kind in kinds:
        check = _DRAFT4_TYPES.get(kind) if plain else None
        if check(instance) if check is not None else validator.is_type(instance, kind):
            return
    yield ValidationError(f"is not of type {', '.join(kinds)}")


def _enum(rule: Any) -> Any:
    def check(validator: Any, enums: Any, instance: Any, schema: dict) -> Any:
        if isinstance(instance, dict | list) and not any(isinstance(e, dict | list) for e in enums):
            yield ValidationError("is not one of the values allowed")  # without a repr
            return
        yield from rule(validator, enums, instance, schema)

    return check


def _closed_object(rule: Any) -> Any:
    # jsonschema names every unexpected key in a sorted message, once per oneOf
    # variant; body_error names the first one itself, so one pass is enough.
    def check(validator: Any, additional: Any, instance: Any, schema: dict) -> Any:
        if additional is not False or "patternProperties" in schema:
            yield from rule(validator, additional, instance, schema)
        elif isinstance(instance, dict):
            allowed = schema.get("properties", {})
            if any(key not in allowed for key in instance):
                yield ValidationError("has properties the schema does not allow")

    return check


def _identity(value: Any) -> Any:
    """A hashable stand-in equal for values JSON Schema calls equal (``1`` and ``1.0``
    are, ``true`` and ``1`` are not; key order does not matter)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):  # at most MAX_JSON_DEPTH levels: check_json ran first
        return ("array", tuple(_identity(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _identity(v)) for k, v in value.items()))
    return ("null", None) if value is None else ("other", repr(value))


def _nullable(rule: Any) -> Any:
    def check(validator: Any, value: Any, instance: Any, schema: dict) -> Any:
        if instance is None and schema.get("nullable") is True:
            return
        yield from rule(validator, value, instance, schema)

    return check


_FLAVOURS: dict[type, type] = {}


def _openapi_flavour(cls: type[Draft4Validator]) -> type[Draft4Validator]:
    if cls not in _FLAVOURS:
        rules = cls.VALIDATORS
        _FLAVOURS[cls] = validators.extend(
            cls,
            {
                "pattern": _ecma_pattern,
                "allOf": _nullable(rules["allOf"]),
                "type": _nullable(_type),
                "enum": _nullable(_enum(rules["enum"])),
                "uniqueItems": _unique_items,
                "additionalProperties": _closed_object(rules["additionalProperties"]),
            },
        )
    return _FLAVOURS[cls]
