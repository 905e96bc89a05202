"""Request validation driven by the spec, with errors that name the input.

Connexion's own validators build a new jsonschema validator (and deep-copy the
schema) per parameter per request, and report multi-line jsonschema dumps.
These subclasses compile each schema once and raise ``InvalidParameter`` with
``details.parameter`` and ``details.value``.
"""

from __future__ import annotations

import json
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest
from connexion.utils import is_nullable
from connexion.validators import FormDataValidator, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from pin_mock.errors import InvalidParameter, InvalidRequest

DATE_MESSAGE = "Invalid date format. Use YYYY-MM-DD."
_FORMAT_CHECKER = Draft4Validator.FORMAT_CHECKER
_compiled: dict[int, tuple[dict, Draft4Validator]] = {}


def compiled(schema: dict, cls: type[Draft4Validator] = Draft4Validator) -> Draft4Validator:
    """One validator per schema object for the life of the process."""
    hit = _compiled.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    validator = cls(schema, format_checker=_FORMAT_CHECKER)
    _compiled[id(schema)] = (schema, validator)
    return validator


class PinParameterValidator(ParameterValidator):
    """Query, path and header parameters, each named in its error."""

    def validate_request(self, request: ConnexionRequest) -> None:
        query = request.query_params
        if self.strict_validation:
            known = {p["name"] for p in self.parameters.get("query", [])}
            known |= self.security_query_params
            for name in request.query_params:
                if name not in known:
                    value = query.get(name)
                    if isinstance(value, list) and len(value) == 1:
                        value = value[0]
                    raise InvalidParameter(name, value, f"Unknown query parameter '{name}'.")
        for param in self.parameters.get("query", []):
            self._check(param, query.get(param["name"]))
        path = request.path_params
        for param in self.parameters.get("path", []):
            self._check(param, path.get(param["name"].replace("-", "_")))
        for param in self.parameters.get("header", []):
            self._check(param, request.headers.get(param["name"]))

    @staticmethod
    def _check(param: dict, value: Any) -> None:
        name = param["name"]
        if value is None:
            if param.get("required"):
                raise InvalidParameter(name, None, f"Missing required parameter '{name}'.")
            return
        if is_nullable(param) and value in ("null", "None"):
            return
        schema = param.get("schema", param)
        error = next(iter(compiled(schema).iter_errors(value)), None)
        if error is None:
            return
        if schema.get("format") == "date":
            raise InvalidParameter(name, value, DATE_MESSAGE)
        raise InvalidParameter(
            name, value, f"Invalid value for parameter '{name}': {error.message}."
        )


class PinJSONBodyValidator(JSONRequestBodyValidator):
    """JSON bodies: clean 400s for undecodable, malformed or invalid bodies."""

    @property
    def _validator(self) -> Draft4Validator:
        return compiled(self._schema, Draft4RequestValidator)

    async def _parse(self, stream: Any, scope: Any) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw.strip():
            return None
        try:
            text = raw.decode(self._encoding or "utf-8")
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

    def _validate(self, body: Any) -> None:
        if body is None:
            raise InvalidRequest("A JSON request body is required.")
        error = next(iter(self._validator.iter_errors(body)), None)
        if error is not None:
            raise body_error(error)


class PinFormDataValidator(FormDataValidator):
    """Form bodies (the token endpoint): a malformed body is a clean 400."""

    def _validate(self, body: Any) -> None:
        try:
            super()._validate(body)
        except ValidationError as exc:
            raise InvalidRequest(exc.message) from exc


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


VALIDATOR_MAP = {
    "parameter": PinParameterValidator,
    "body": MediaTypeDict(
        {
            "*/*json": PinJSONBodyValidator,
            "application/x-www-form-urlencoded": PinFormDataValidator,
        }
    ),
}
