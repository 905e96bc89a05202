"""Scenario control for integrators: the ``Prefer`` request header, as Prism reads it.

On any ``/v1`` operation, after routing and authentication (an unauthenticated
request is still 401, a missing scope still 403):

- ``Prefer: code=429`` answers the operation's documented response for that
  status: its example body (the spec's ``example``, else the first of its
  ``examples``, else one built from the schema's examples) and its required
  headers (``Retry-After``, ``Location``; the rate-limit headers come from the
  rate-limit layer as on every answer). A status the operation does not
  document is 400 ``INVALID_PARAMETER`` naming the codes that exist.
- ``Prefer: example=NAME`` answers with the named example of the ``examples``
  map (of the ``code`` given, else of the first response that has it).
- ``Prefer: delay=MS`` waits MS milliseconds (at most
  ``settings.max_prefer_delay_ms``) and then answers normally, or with the
  scenario above. A distribution instead of a number draws the wait:
  ``delay=uniform; min_ms=100; max_ms=500``, ``delay=lognormal; median_ms=200;
  sigma=0.5; max_ms=2000`` or ``delay=fixed; ms=250`` (``domain/delays.py``).
- ``Prefer: fault=NAME`` is the chaos layer's (``pipeline/chaos.py``).

Preferences combine (``Prefer: code=404, delay=250``), several ``Prefer``
headers add up, and unknown preferences are ignored (RFC 7240 section 2). The
answer carries ``Preference-Applied``. Forced answers skip request validation
and the handler: nothing is stored, nothing is emitted.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

import pin_mock.server.errors as errors
from pin_mock.server.digits import whole_number
from pin_mock.server.domain.delays import DISTRIBUTIONS, parse_delay
from pin_mock.server.encoding import encode
from pin_mock.server.pipeline.authentication import caller_of
from pin_mock.server.pipeline.operations import JSON, ROUTING, Operation

#: Headers the rate-limit layer adds to every /v1 answer; never duplicated here.
RATE_LIMIT_HEADERS = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}


@dataclass(frozen=True)
class Scenario:
    """What a request's ``Prefer`` headers ask for."""

    code: int | None = None
    example: str | None = None
    delay_ms: int = 0
    applied: tuple[str, ...] = ()


def parse_prefer(values: list[str], max_delay_ms: int) -> Scenario | None:
    """The scenario of ``Prefer`` header values, None if they ask for none of ours."""
    found: dict[str, str] = {}
    delay_parameters: dict[str, str] = {}
    for value in values:
        for preference in value.split(","):
            head, *parameters = preference.split(";")
            token, _, rest = head.strip().partition("=")
            token = token.strip().lower()
            if token in ("code", "example", "delay"):
                found[token] = rest.strip().strip('"')
            if token == "delay":
                delay_parameters = dict(
                    (k.strip().lower(), v.strip().strip('"'))
                    for k, _, v in (p.partition("=") for p in parameters)
                )
    if not found:
        return None
    code = example = None
    delay = 0
    if "code" in found:
        raw = found["code"]
        code = whole_number(raw, 3)  # ASCII digits only: "²²²" is not a status
        if code is None or len(raw) != 3 or not 100 <= code <= 599:
            raise _invalid(f"code={raw}", "Prefer: code must be an HTTP status such as 404.")
    if "example" in found:
        example = found["example"]
        if not example:
            raise _invalid("example=", "Prefer: example needs the name of an example.")
    if "delay" in found and found["delay"].lower() in DISTRIBUTIONS:
        delay = distributed_delay(found["delay"].lower(), delay_parameters, max_delay_ms)
    elif "delay" in found:
        raw = found["delay"]
        value = whole_number(raw)
        if value is None or value > max_delay_ms:
            raise _invalid(
                f"delay={raw}",
                f"Prefer: delay must be a whole number of milliseconds from 0 to {max_delay_ms}.",
                {"max_delay_ms": max_delay_ms},
            )
        delay = value
    applied = tuple(f"{k}={found[k]}" for k in ("code", "example", "delay") if k in found)
    return Scenario(code, example, delay, applied)


def distributed_delay(distribution: str, parameters: dict[str, str], max_delay_ms: int) -> int:
    """A delay drawn at random from ``Prefer: delay=uniform; min_ms=100; max_ms=500``
    (or ``fixed; ms=``, ``lognormal; median_ms=; sigma=; max_ms=``), every bound checked."""
    fields: dict[str, Any] = {"distribution": distribution}
    for name, raw in parameters.items():
        number = whole_number(raw) if name != "sigma" else _decimal(raw)
        fields[name] = raw if number is None else number
    return parse_delay(fields, max_delay_ms, "Prefer").sample(random.random())


def _decimal(raw: str) -> float | None:
    # A sigma such as 0.5: ASCII digits and one dot, short (never a 4,300-digit float).
    if len(raw) > 8 or not raw.replace(".", "", 1).isdigit() or not raw.isascii():
        return None
    return float(raw)


def _invalid(value: str, message: str, extra: dict[str, Any] | None = None) -> errors.ApiError:
    error = errors.InvalidParameter("Prefer", value, message)
    error.details.update(extra or {})
    return error


@dataclass
class Documented:
    """One documented response of an operation, ready to be served."""

    status: int
    media_type: str | None
    example: Any = None
    examples: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # required headers -> example


@dataclass
class OperationScenarios:
    """An operation's scopes and documented responses, compiled once."""

    operation_id: str
    scopes: list[str] | None
    responses: dict[int, Documented]
    #: The path parameter naming the resource (the template's last), if any.
    id_parameter: str | None = None

    def choose(self, scenario: Scenario) -> tuple[Documented, Any]:
        """The response and body ``scenario`` asks for, or 400 explaining what exists."""
        codes = sorted(self.responses)
        if scenario.code is not None:
            response = self.responses.get(scenario.code)
            if response is None:
                raise _invalid(
                    f"code={scenario.code}",
                    f"{self.operation_id} does not document status {scenario.code}; "
                    f"documented: {', '.join(map(str, codes))}.",
                    {"documented_codes": codes},
                )
            candidates = [response]
        else:
            candidates = [self.responses[c] for c in codes if self.responses[c].examples]
        if scenario.example is None:
            return candidates[0], candidates[0].example
        for response in candidates:
            if scenario.example in response.examples:
                return response, response.examples[scenario.example]
        names = sorted({n for r in candidates for n in r.examples})
        where = f"status {scenario.code}" if scenario.code is not None else self.operation_id
        raise _invalid(
            f"example={scenario.example}",
            f"{where} has no example named {scenario.example!r}; "
            + (f"named examples: {', '.join(names)}." if names else "it has no named examples."),
            {"examples": names},
        )


def compile_scenarios(
    operations: Mapping[str, Operation], prefix: str = "/v1/"
) -> dict[str, OperationScenarios]:
    """The documented responses of every ``/v1`` operation, keyed by ``operationId``."""
    return {
        operation_id: OperationScenarios(
            operation_id,
            operation.scopes,
            {
                int(status): _documented(int(status), definition)
                for status, definition in operation.definition["responses"].items()
                if status.isdigit()
            },
            operation.path[-1].name if operation.path else None,
        )
        for operation_id, operation in operations.items()
        if operation.path_template.startswith(prefix)
    }


def _documented(status: int, definition: dict[str, Any]) -> Documented:
    content = definition.get("content") or {}
    media_type = JSON if JSON in content else next(iter(content), None)
    response = Documented(status, media_type)
    if media_type:
        media = content[media_type]
        response.examples = {
            name: ex.get("value") for name, ex in (media.get("examples") or {}).items()
        }
        if "example" in media:
            response.example = media["example"]
        elif response.examples:
            response.example = next(iter(response.examples.values()))
        else:
            response.example = sample(media.get("schema") or {})
    for name, header in (definition.get("headers") or {}).items():
        if header.get("required") and name.lower() not in RATE_LIMIT_HEADERS:
            schema = header.get("schema") or {}
            response.headers[name] = str(header.get("example", schema.get("example", "1")))
    return response


def sample(schema: dict[str, Any]) -> Any:
    """A value of ``schema`` built from its examples (what Prism's static mode does)."""
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    for combinator in ("oneOf", "anyOf"):
        if schema.get(combinator):
            return sample(schema[combinator][0])
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(sample(part))
        return merged
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: sample(prop) for name, prop in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [sample(schema.get("items") or {})] * max(1, schema.get("minItems", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return True
    formats = {
        "date": "2024-01-01",
        "date-time": "2024-01-01T00:00:00Z",
        "email": "user@example.com",
        "uri": "https://example.com/",
        "binary": "",
    }
    return formats.get(schema.get("format", ""), "string")


class PreferMiddleware:
    """Serves ``Prefer`` scenarios; sits right after routing, before the operation layer."""

    def __init__(
        self, app: ASGIApp, *, operations: Mapping[str, Operation], max_delay_ms: int
    ) -> None:
        self.app = app
        self.operations = compile_scenarios(operations)
        self.max_delay_ms = max_delay_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefer = (
            [v.decode("latin-1") for k, v in scope["headers"] if k == b"prefer"]
            if scope["type"] == "http"
            else None
        )
        routing = scope.get("extensions", {}).get(ROUTING) if prefer else None
        operation = self.operations.get(routing.get("operation_id")) if routing else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        # The operation layer's check, so a forced answer still needs a token and scope.
        caller_of(scope).require(operation.scopes)
        scenario = parse_prefer(prefer or [], self.max_delay_ms)
        if scenario is None:
            await self.app(scope, receive, send)
            return
        applied = ", ".join(scenario.applied).encode("latin-1")
        if scenario.delay_ms:
            await asyncio.sleep(scenario.delay_ms / 1000)
        if scenario.code is None and scenario.example is None:

            async def send_applied(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [
                        *message.get("headers", []),
                        (b"preference-applied", applied),
                    ]
                await send(message)

            await self.app(scope, receive, send_applied)
            return
        response, body = operation.choose(scenario)
        if operation.id_parameter:
            asked = scope.get("path_params", {}).get(operation.id_parameter)
            body = for_id(body, asked)
        await _serve(response, body, scope["path"], applied, send)


def for_id(body: Any, asked: Any) -> Any:
    """The example ``body`` about the resource ``asked`` for: its own ``id`` replaced everywhere.

    ``GET /v1/reports/rpt_x`` with ``Prefer: example=failed`` answers a failed
    report whose ``id`` (and every link and message naming it) is ``rpt_x``,
    not the id the example was captured with.
    """
    own = body.get("id") if isinstance(body, dict) else None
    if not isinstance(own, str) or not own or not isinstance(asked, str) or asked == own:
        return body

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(own, asked)
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    return swap(body)


async def _serve(response: Documented, body: Any, path: str, applied: bytes, send: Send) -> None:
    headers = dict(response.headers)
    if "Location" in headers and isinstance(body, dict):
        links = body.get("links") if isinstance(body.get("links"), dict) else {}
        if links.get("self"):
            headers["Location"] = str(links["self"])
        elif body.get("id"):
            headers["Location"] = f"{path.rstrip('/')}/{body['id']}"
    if response.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="pin", error="invalid_token"')
    if response.media_type is None or response.status == 204:
        raw = b""
    elif response.media_type == JSON or not isinstance(body, str | bytes):
        raw = encode(body)
    else:
        raw = body.encode() if isinstance(body, str) else body
    out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if response.media_type and raw:
        out.append((b"content-type", response.media_type.encode("latin-1")))
    out += [(b"content-length", str(len(raw)).encode()), (b"preference-applied", applied)]
    await send({"type": "http.response.start", "status": response.status, "headers": out})
    await send({"type": "http.response.body", "body": raw})
