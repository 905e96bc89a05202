"""Replay the spec's documented examples against a sandbox and compare the answers.

Each example of an answer in the sandbox's view of the spec (``openapi/pin.yaml``
plus its overlays, ``pin_mock.overlays``) carries ``x-request``: the request that
produces it (``openapi/example-requests.overlay.yaml`` says how to read one;
the sandbox's own operations carry theirs inline). ``replays`` lists them
(an example with ``x-replay: false`` is listed with its ``x-replay-reason``),
``send`` performs one against an in-process sandbox, and ``normalised`` turns a
body into what must be equal: ids and times of objects the request created,
secrets and tokens are compared by shape, everything else exactly.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from connexion.json_schema import resolve_refs
from starlette.testclient import TestClient

from pin_mock._bundled import spec_path
from pin_mock.overlays import sandbox_document
from pin_mock.server.app import load_spec
from tokens import fetch_token

#: The sandbox clock's reading when the examples were captured (the spec says so).
CAPTURED_AT = "2025-01-15T09:00:00Z"
#: Ids the sandbox makes for created objects: 12 hex digits, the first 8-f.
GENERATED_ID = re.compile(r"\b(patient|cd|rpt|wh|msg|dlv|evt)_[89a-f][0-9a-f]{11}\b")
DATE_TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b")
JWT = re.compile(r"^[\w-]+\.[\w-]+\.[\w-]+$")
SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]+$")
#: Fields whose value is measured, not derived from the data: compared by type.
MEASURED = {"duration_ms", "offset_seconds"}  # offset: a sandbox clock from the real one
#: The request journal's entry ids and request ids (``req_`` + a per-process prefix and a
#: counter), and the rate-limit headers it shows: they depend on when and in which
#: process an example was replayed, so they are compared by shape.
JOURNAL_ID = re.compile(r"^[0-9]{13}-[0-9]+$")
REQUEST_ID = re.compile(r"^req_[0-9a-f]{20}$")
VOLATILE_HEADERS = {"x-ratelimit-remaining", "x-ratelimit-reset", "x-request-id"}
DEFAULT_CLIENT = "sandbox-enterprise"
WAIT_SECONDS = 20.0


@dataclass
class Replay:
    """One documented example and the request that produces it."""

    operation_id: str
    method: str
    template: str
    status: int
    media_type: str
    name: str
    value: Any
    request: dict[str, Any] | None
    reason: str | None
    operation: dict[str, Any] = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.operation_id}-{self.status}-{self.name}"


def spec() -> dict[str, Any]:
    """The sandbox's view, every overlay action required to apply, ``$ref``s resolved."""
    return resolve_refs(sandbox_document(load_spec(spec_path()), strict=True))


def replays(document: dict[str, Any] | None = None) -> list[Replay]:
    """Every named example of every answer of every operation."""
    document = document or spec()
    found = []
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            for status, response in operation["responses"].items():
                for media_type, content in (response.get("content") or {}).items():
                    for name, example in (content.get("examples") or {}).items():
                        request = example.get("x-request")
                        reason = None
                        if example.get("x-replay") is False:
                            request, reason = None, example.get("x-replay-reason")
                        found.append(
                            Replay(
                                operation["operationId"],
                                method.upper(),
                                template,
                                int(status),
                                media_type,
                                name,
                                example.get("value"),
                                request,
                                reason,
                                operation,
                            )
                        )
    return found


def operation_by_id(document: dict[str, Any], operation_id: str) -> tuple[str, str, dict]:
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return method.upper(), template, operation
    raise KeyError(operation_id)


class Replayer:
    """Sends documented requests to one in-process sandbox, with tokens per client and scope."""

    def __init__(self, client: TestClient, document: dict[str, Any]) -> None:
        self.http = client
        self.document = document
        self._tokens: dict[tuple[str, str | None], str] = {}

    def token(self, client_id: str, scope: str | None = None) -> str:
        if (client_id, scope) not in self._tokens:
            self._tokens[(client_id, scope)] = fetch_token(self.http, client_id, scope)
        return self._tokens[(client_id, scope)]

    def send(self, replay: Replay) -> httpx.Response:
        request = dict(replay.request or {})
        path_values = _path_defaults(replay.operation)
        path_values.update(request.get("path") or {})
        for step in request.get("setup") or []:
            created = self._step(step, path_values)
            if step.get("param"):
                path_values[step["param"]] = created["id"]
        return self._call(replay.method, replay.template, replay.operation, request, path_values)

    def _step(self, step: dict[str, Any], path_values: dict[str, str]) -> Any:
        method, template, operation = operation_by_id(self.document, step["operation"])
        answer = self._call(method, template, operation, step, path_values)
        # A step may expect a refusal (``status``), for the journal's examples of one.
        expected = step.get("status")
        assert answer.status_code == expected if expected else answer.status_code < 300, (
            f"setup {step['operation']}: {answer.text}"
        )
        return answer.json() if answer.content else None

    def _call(
        self,
        method: str,
        template: str,
        operation: dict[str, Any],
        request: dict[str, Any],
        path_values: dict[str, str],
    ) -> httpx.Response:
        url = re.sub(r"\{(\w+)\}", lambda m: str(path_values[m.group(1)]), template)
        headers = dict(request.get("headers") or {})
        client = request.get("client", DEFAULT_CLIENT)
        if client is not None and operation.get("security") != []:
            headers["Authorization"] = f"Bearer {self.token(client, request.get('scope'))}"
        kwargs: dict[str, Any] = {"params": request.get("query"), "headers": headers}
        body = operation.get("requestBody", {}).get("content", {})
        if "body_size" in request:
            kwargs["content"] = b" " * request["body_size"]
            headers.setdefault("Content-Type", next(iter(body), "application/json"))
        elif "raw_body" in request:
            kwargs["content"] = request["raw_body"].encode()
        elif "application/x-www-form-urlencoded" in body:
            kwargs["data"] = request.get(
                "form", body["application/x-www-form-urlencoded"]["example"]
            )
        elif "application/json" in body:
            kwargs["json"] = request.get("body", body["application/json"].get("example"))
        answer = self._send(method, url, kwargs, request.get("header_count"))
        wait = request.get("wait_for")
        deadline = time.monotonic() + WAIT_SECONDS
        while wait and not _reached(answer, wait) and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = self._send(method, url, kwargs, None)
        return answer

    def _send(
        self, method: str, url: str, kwargs: dict[str, Any], header_count: int | None
    ) -> httpx.Response:
        built = self.http.build_request(method, url, **kwargs)
        # header_count: the request carries exactly that many header fields in all.
        for number in range(max(0, (header_count or 0) - len(built.headers))):
            built.headers[f"X-Filler-{number}"] = "x"
        return self.http.send(built)


def _reached(answer: httpx.Response, wait: dict[str, Any]) -> bool:
    if answer.status_code >= 300:
        return False
    body = answer.json()
    for dotted, wanted in wait.items():
        value = body
        for step in dotted.split("."):
            if isinstance(value, list) and step.isdigit() and int(step) < len(value):
                value = value[int(step)]
            else:
                value = value.get(step) if isinstance(value, dict) else None
        if value != wanted:
            return False
    return True


def _path_defaults(operation: dict[str, Any]) -> dict[str, str]:
    return {
        p["name"]: p["example"]
        for p in operation.get("parameters", [])
        if p["in"] == "path" and "example" in p
    }


def normalised(value: Any, key: str | None = None) -> Any:
    """``value`` with what legitimately varies between runs replaced by its shape."""
    if isinstance(value, dict):
        return {k: normalised(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v, key) for v in value]
    if key in MEASURED and isinstance(value, int | float):
        return "<number>"
    if not isinstance(value, str):
        return value
    if key in VOLATILE_HEADERS or (key == "request_id" and REQUEST_ID.match(value)):
        return f"<{key}>"
    if key in ("id", "after") and JOURNAL_ID.match(value):
        return "<journal id>"
    if key == "access_token" and JWT.match(value):
        return "<jwt>"
    if key == "secret" and SECRET.match(value):
        return "<whsec>"
    value = DATE_TIME.sub(_made_now, value)
    return GENERATED_ID.sub(lambda m: f"<{m.group(1)} id>", value)


def event_stream_normalised(text: str) -> list[Any]:
    """A server-sent event stream's fields, each ``data`` JSON normalised, ids by shape."""
    fields: list[Any] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        name, _, value = line.partition(": ")
        if name == "data":
            fields.append(normalised(json.loads(value)))
        elif name == "id" and JOURNAL_ID.match(value):
            fields.append("id: <journal id>")
        elif line:
            fields.append(line)
    return fields


def _made_now(match: re.Match[str]) -> str:
    # A time on or after the capture was made by the request (seeded data ends in 2024).
    stamp = match.group(0)
    return "<time of the request>" if _stamp(stamp) >= _stamp(CAPTURED_AT) else stamp


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
