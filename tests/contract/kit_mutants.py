"""Deliberately broken PIN implementations: a proxy in front of the real sandbox that breaks one thing.

Each ``Mutant`` rewrites requests on their way in and/or answers on their way
out. The mutation suite runs the kit against each and requires it to fail, for
the right reason (one of ``kills``), while the unbroken sandbox passes.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx

HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding",
              "keep-alive"}  # fmt: skip


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    #: The path as sent (percent-encoded); forwarded as is unless a mutant changes ``path``.
    raw_path: bytes = b""
    raw_query: bytes = b""

    def drop_query(self, *names: str) -> None:
        self.query = [(k, v) for k, v in self.query if k not in names]

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name]
        if value is not None:
            self.headers.append((name, value))


RequestHook = Callable[["Proxy", Request], Awaitable[Response | None]]
ResponseHook = Callable[["Proxy", Request, Response], Awaitable[None]]


@dataclass
class Mutant:
    """One broken implementation: what it breaks, which checks must catch it, a focused run."""

    name: str
    breaks: str
    kills: frozenset[str]
    focus: dict[str, Any]
    on_request: RequestHook | None = None
    on_response: ResponseHook | None = None


@dataclass
class Proxy:
    """An ASGI reverse proxy to ``upstream`` that applies one mutant."""

    upstream: str
    mutant: Mutant
    counter: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    _client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.upstream, timeout=30)
        return self._client

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self._client is not None:
                        await self._client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.counter += 1
        request = Request(
            scope["method"], scope["path"], parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True),
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}, body,
            scope.get("raw_path") or scope["path"].encode(), scope["query_string"],
        )  # fmt: skip
        original = (request.path, list(request.query))
        response = await self.mutant.on_request(self, request) if self.mutant.on_request else None
        if (request.path, request.query) != original:
            request.raw_path = quote(request.path).encode()
            request.raw_query = urlencode(request.query).encode()
        if response is None:
            response = await self.forward(request)
            if self.mutant.on_response:
                await self.mutant.on_response(self, request, response)
        headers = [
            (k.encode(), v.encode()) for k, v in response.headers if k.lower() not in HOP_BY_HOP
        ]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def forward(self, request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
        raw = request.raw_path + (b"?" + request.raw_query if request.raw_query else b"")
        url = httpx.URL(self.upstream).copy_with(raw_path=raw)
        answer = await self.client.request(
            request.method, url, headers=headers, content=request.body
        )
        return Response(answer.status_code, list(answer.headers.multi_items()), answer.content)

    async def token(self) -> str:
        if "token" not in self.state:
            form = {
                "grant_type": "client_credentials",
                "client_id": "sandbox-enterprise",
                "client_secret": "sandbox-enterprise-secret",
            }
            self.state["token"] = (await self.client.post("/oauth/token", data=form)).json()[
                "access_token"
            ]
        return self.state["token"]


# -- the mutants -------------------------------------------------------------------------------


def _v1(request: Request) -> bool:
    return request.path.startswith("/v1/")


async def wrong_field_types(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if (
        re.fullmatch(r"/v1/patients/[^/]+", request.path)
        and response.status == 200
        and isinstance(body, dict)
    ):
        body["date_of_birth"] = int(str(body.get("date_of_birth", "1980-01-01")).replace("-", ""))
        response.set_json(body)


async def drop_rate_limit_headers(proxy: Proxy, request: Request, response: Response) -> None:
    if _v1(request):
        for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
            response.set_header(name, None)


async def accept_any_token(proxy: Proxy, request: Request) -> None:
    if _v1(request):
        request.headers["authorization"] = f"Bearer {await proxy.token()}"


async def plain_error_body(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if _v1(request) and response.status >= 400 and isinstance(body, dict):
        response.set_json(
            {"message": body.get("error", {}).get("message", "error"), "status": response.status}
        )


async def ignore_limit(proxy: Proxy, request: Request) -> None:
    if request.method == "GET" and request.get("limit") is not None:
        proxy.state[id(request)] = (
            int(request.get("limit")) if request.get("limit").isdigit() else None
        )
        request.drop_query("limit")


async def echo_limit(proxy: Proxy, request: Request, response: Response) -> None:
    asked = proxy.state.pop(id(request), None)
    body = response.json()
    if asked is not None and isinstance(body, dict) and isinstance(body.get("pagination"), dict):
        body["pagination"]["limit"] = asked
        response.set_json(body)


async def ignore_search(proxy: Proxy, request: Request) -> None:
    if request.path == "/v1/patients":
        request.drop_query("search")


async def crash_on_odd_input(proxy: Proxy, request: Request, response: Response) -> None:
    text = " ".join(v for _, v in request.query) + request.body.decode("utf-8", "replace")
    if _v1(request) and re.search(r"[^\x20-\x7e]", text):
        response.status = 500
        response.set_json(
            {
                "error": {
                    "code": "INTERNAL_ERROR",
                    "message": "An internal error occurred.",
                    "details": {},
                }
            }
        )


async def forget_created_patient(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if (
        request.method == "POST"
        and request.path == "/v1/patients"
        and response.status == 201
        and isinstance(body, dict)
    ):
        body["id"] = "patient_" + uuid.uuid4().hex[:12]
        response.set_header("location", f"/v1/patients/{body['id']}")
        response.set_json(body)


async def created_as_200(proxy: Proxy, request: Request, response: Response) -> None:
    if request.method == "POST" and request.path == "/v1/patients" and response.status == 201:
        response.status = 200


async def envelope_on_token_errors(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if request.path == "/oauth/token" and response.status >= 400 and isinstance(body, dict):
        response.set_json(
            {"error": {"code": "UNAUTHORIZED", "message": body.get("error_description", "")}}
        )


async def remaining_goes_up(proxy: Proxy, request: Request, response: Response) -> None:
    limit = response.header("x-ratelimit-limit")
    if _v1(request) and limit:
        response.set_header("x-ratelimit-remaining", str(int(limit) - 1 - proxy.counter % 3))


async def reset_as_seconds_left(proxy: Proxy, request: Request, response: Response) -> None:
    reset = response.header("x-ratelimit-reset")
    if _v1(request) and reset:
        response.set_header("x-ratelimit-reset", str(max(1, int(reset) - int(time.time()))))


#: Requests (token, reachability, budget reading) the 429 mutants let through first.
PREFLIGHT = 8


def _limited(response: Response, retry_after: str | None) -> None:
    response.status = 429
    response.set_json(
        {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Slow down.", "details": {}}}
    )
    response.set_header("x-ratelimit-remaining", "0")
    response.set_header("retry-after", retry_after)


async def some_429_without_retry_after(proxy: Proxy, request: Request, response: Response) -> None:
    # The first requests pass: the kit's preflight must see a budget, then one in four is refused.
    if _v1(request) and proxy.counter > PREFLIGHT and proxy.counter % 4 == 0:
        _limited(response, None)


async def budget_runs_out(proxy: Proxy, request: Request, response: Response) -> None:
    # The first few requests pass (the kit's preflight sees a budget), then every one is refused.
    if _v1(request) and proxy.counter > PREFLIGHT:
        _limited(response, "0")


async def ignore_dates(proxy: Proxy, request: Request) -> None:
    if request.path.endswith("/clinical-data"):
        request.drop_query("start_date", "end_date")


async def delete_does_nothing(proxy: Proxy, request: Request) -> Response | None:
    if request.method == "DELETE" and request.path.startswith("/v1/webhooks/"):
        request.method = "GET"  # for the rate-limit headers; then pretend it was deleted
        answer = await proxy.forward(request)
        if answer.status == 200:
            return Response(
                204, [(k, v) for k, v in answer.headers if k.lower().startswith("x-ratelimit")], b""
            )
        request.method = "DELETE"
    return None


async def drop_challenge(proxy: Proxy, request: Request, response: Response) -> None:
    if _v1(request) and response.status == 401:
        response.set_header("www-authenticate", None)


async def leak_webhook_secret(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if (
        request.method == "GET"
        and re.fullmatch(r"/v1/webhooks/[^/]+", request.path)
        and response.status == 200
    ):
        body["secret"] = "whsec_bGVha2VkLXNlY3JldA=="
        response.set_json(body)


async def always_john_doe(proxy: Proxy, request: Request) -> None:
    if request.method == "GET" and re.fullmatch(r"/v1/patients/[^/]+", request.path):
        request.path = "/v1/patients/patient_123"


async def newest_first(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if (
        request.path.endswith("/clinical-data")
        and request.method == "GET"
        and response.status == 200
    ):
        body["data"].reverse()
        response.set_json(body)


def focus(*operations: str, phases: str = "examples", **extra: Any) -> dict[str, Any]:
    """Kit options for a quick, targeted run (the long suite runs everything)."""
    return {"include": operations, "phases": tuple(phases.split(",")), **extra}


PATIENT_PROBE = ("createPatient", "getPatient", "listPatients")
ENTRY_PROBE = ("createPatient", "addClinicalData", "getClinicalDataEntry", "listClinicalData")
WEBHOOK_PROBE = ("createWebhook", "getWebhook", "listWebhooks", "deleteWebhook")

MUTANTS = [
    Mutant("wrong-field-types", "date_of_birth of a patient is an integer", frozenset({"response_schema_conformance"}),
           focus("getPatient"), on_response=wrong_field_types),
    Mutant("no-rate-limit-headers", "X-RateLimit-* headers missing", frozenset({"pin_rate_limit_headers", "response_headers_conformance"}),
           focus("listPatients", phases="coverage"), on_response=drop_rate_limit_headers),
    Mutant("ignored-auth", "any token, or none, is accepted", frozenset({"pin_auth_enforced"}),
           focus("listPatients", "getPatient", phases="probes"), on_request=accept_any_token),
    Mutant("broken-envelope", "errors are {message, status}", frozenset({"pin_error_envelope", "response_schema_conformance"}),
           focus("getPatient", phases="coverage,probes"), on_response=plain_error_body),
    Mutant("paging-ignores-limit", "limit is ignored (always 50) but echoed", frozenset({"pin_paging"}),
           focus("listPatients", phases="examples,probes"), on_request=ignore_limit, on_response=echo_limit),
    Mutant("search-ignored", "search is ignored", frozenset({"pin_search_filter", "pin_filters_exclude", "pin_created_listed"}),
           focus(*PATIENT_PROBE, phases="coverage,probes"), on_request=ignore_search),
    Mutant("500-on-odd-input", "non-ASCII input crashes with 500", frozenset({"not_a_server_error"}),
           focus("listPatients", phases="coverage,fuzzing"), on_response=crash_on_odd_input),
    Mutant("created-not-stored", "a created patient is never stored", frozenset({"pin_created_readable", "ensure_resource_availability"}),
           focus(*PATIENT_PROBE, phases="probes"), on_response=forget_created_patient),
    Mutant("wrong-status-code", "POST /v1/patients answers 200, not 201", frozenset({"status_code_conformance"}),
           focus("createPatient"), on_response=created_as_200),
    Mutant("token-errors-not-rfc6749", "token errors use the /v1 envelope", frozenset({"pin_oauth_error", "pin_token_errors", "response_schema_conformance"}),
           focus("issueToken", phases="probes"), on_response=envelope_on_token_errors),
    Mutant("remaining-goes-up", "X-RateLimit-Remaining goes up within a window", frozenset({"PinRateLimitWindow", "pin_rate_limit_counting"}),
           focus("listPatients", phases="examples,probes"), on_response=remaining_goes_up),
    Mutant("reset-as-seconds", "X-RateLimit-Reset is seconds left, not epoch", frozenset({"pin_rate_limit_headers"}),
           focus("listPatients", phases="coverage"), on_response=reset_as_seconds_left),
    Mutant("429-without-retry-after", "some 429s lack Retry-After", frozenset({"pin_retry_after", "response_headers_conformance"}),
           focus("listPatients", phases="coverage,fuzzing"), on_response=some_429_without_retry_after),
    Mutant("budget-runs-out", "after the preflight every /v1 request is refused with 429", frozenset({"rate-limited run"}),
           focus("listPatients", phases="coverage,fuzzing"), on_response=budget_runs_out),
    Mutant("date-filter-ignored", "clinical-data start_date/end_date ignored", frozenset({"pin_filters_exclude", "pin_clinical_data_filters"}),
           focus(*ENTRY_PROBE, phases="probes"), on_request=ignore_dates),
    Mutant("delete-does-nothing", "DELETE /v1/webhooks/{id} answers 204 and keeps it", frozenset({"pin_deleted_gone", "use_after_free"}),
           focus(*WEBHOOK_PROBE, phases="probes"), on_request=delete_does_nothing),
    Mutant("no-www-authenticate", "401 without WWW-Authenticate", frozenset({"pin_unauthorized_challenge"}),
           focus("listPatients", phases="probes"), on_response=drop_challenge),
    Mutant("webhook-secret-leaked", "GET /v1/webhooks/{id} shows the secret", frozenset({"pin_resource_identity"}),
           focus(*WEBHOOK_PROBE, phases="probes"), on_response=leak_webhook_secret),
    Mutant("wrong-resource", "GET /v1/patients/{id} always returns patient_123", frozenset({"pin_resource_identity", "pin_created_readable"}),
           focus(*PATIENT_PROBE, phases="probes"), on_request=always_john_doe),
    Mutant("newest-first", "clinical data listed newest first", frozenset({"pin_clinical_data_filters"}),
           focus("listClinicalData"), on_response=newest_first),
]  # fmt: skip
