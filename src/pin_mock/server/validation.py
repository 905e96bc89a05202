"""Request validation driven by the spec, with errors that name the input.

Connexion's own validators build a new jsonschema validator (and deep-copy the
schema) per parameter per request, and report multi-line jsonschema dumps.
These functions validate against validators the operation layer compiles once
per operation at start-up, and raise ``InvalidParameter`` with
``details.parameter`` and ``details.value``.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft4Validator, FormatChecker, ValidationError

from pin_mock.server.errors import InvalidParameter, InvalidRequest

DATE_MESSAGE = "Invalid date format. Use YYYY-MM-DD."
# Draft 4 checks no "date"; the full checker does (1985-02-30 is refused).
_FORMAT_CHECKER = FormatChecker()


def compile_validator(
    schema: dict, cls: type[Draft4Validator] = Draft4Validator
) -> Draft4Validator:
    """A validator for ``schema`` that also checks formats (``date``, ``email``...)."""
    return cls(schema, format_checker=_FORMAT_CHECKER)


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
        raise InvalidParameter(name, value, DATE_MESSAGE)
    raise InvalidParameter(name, value, f"Invalid value for parameter '{name}': {error.message}.")


def parse_json_body(raw: bytes, encoding: str | None = "utf-8") -> Any:
    """Decode a JSON body; undecodable or malformed bytes are a clean ``InvalidRequest``."""
    if not raw.strip():
        return None
    try:
        text = raw.decode(encoding or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidRequest("The request body is not valid UTF-8 text.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}.",
            {"line": exc.lineno, "column": exc.colno},
        ) from exc


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
    path = [str(p) for p in error.absolute_path]
    value: Any = error.instance
    if error.validator == "required":
        missing = [p for p in error.validator_value if p not in (error.instance or {})]
        path.append(missing[0] if missing else "?")
        return InvalidParameter(".".join(path), None, f"Missing required field '{'.'.join(path)}'.")
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        path.append(extra[0] if extra else "?")
        name = ".".join(path)
        return InvalidParameter(
            name, error.instance.get(extra[0]) if extra else None, f"Unknown field '{name}'."
        )
    name = ".".join(path) or "body"
    if isinstance(value, dict | list):
        value = None
    if error.validator == "format" and error.validator_value == "date":
        return InvalidParameter(name, value, f"Invalid date format for '{name}'. Use YYYY-MM-DD.")
    return InvalidParameter(name, value, f"Invalid value for '{name}': {error.message}.")


def _one_of_error(error: ValidationError) -> InvalidParameter:
    """Explain a failed ``oneOf`` by its discriminator (a property fixed by ``enum``)."""
    variants = error.validator_value
    instance = error.instance if isinstance(error.instance, dict) else {}
    discriminator = _discriminator(variants)
    if discriminator and discriminator in instance:
        chosen = instance[discriminator]
        allowed = [v["properties"][discriminator]["enum"][0] for v in variants]
        if chosen not in allowed:
            path = [str(p) for p in error.absolute_path] + [discriminator]
            return InvalidParameter(
                ".".join(path), chosen, f"'{'.'.join(path)}' must be one of: {', '.join(allowed)}."
            )
        index = allowed.index(chosen)
        own = [e for e in error.context if e.schema_path and e.schema_path[0] == index]
        if own:
            return body_error(min(own, key=lambda e: -len(e.absolute_path)))
    if discriminator and discriminator not in instance:
        path = [str(p) for p in error.absolute_path] + [discriminator]
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


def check_date_range(
    start: str | None, end: str | None, *, prefix: str = "", blame: str = "start_date"
) -> None:
    """The one date-range rule: a range must not run backwards.

    Both ends were already checked as calendar dates (``format: date``, by the
    format checker of the parameter and body validators). ``prefix`` names
    where the dates sit (``value.`` in a medication, ``parameters.`` in a report
    request); ``blame`` is the end named when the range runs backwards.
    """
    if not (start and end and start > end):
        return
    if blame == "start_date":
        message = f"{prefix}start_date must not be after {prefix}end_date ({end})."
        raise InvalidParameter(f"{prefix}start_date", start, message)
    message = f"{prefix}end_date must not be before {prefix}start_date ({start})."
    raise InvalidParameter(f"{prefix}end_date", end, message)
