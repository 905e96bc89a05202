"""More broken implementations: the blind spots of a generic fuzzer (issue 11).

Scopes, token claims, tenancy, consistency, reports, webhooks, rate-limit
accounting, references and the spec's own words. Same shape as ``kit_mutants``:
a proxy in front of the real sandbox breaks one thing. Webhook mutants need to
touch deliveries, which go from the sandbox to the kit's receiver, so the proxy
rewrites each registered webhook URL to a relay of its own (``/_relay/...``)
and passes deliveries on, broken.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from datetime import date, timedelta
from urllib.parse import quote, unquote

import httpx

from kit_mutants import Mutant, Proxy, Request, Response, focus

KNOWN_QUERY = {"page", "limit", "search", "data_type", "start_date", "end_date", "patient_id",
               "interval", "status"}  # fmt: skip
OWNER = "sandbox-enterprise"  # the client the mutation runs use (kit_servers.reset_sandbox's)
SCOPE_FOCUS = ("issueToken", "listPatients", "createPatient", "getPatient")
TENANCY = focus("createPatient", "getPatient", "listPatients", "addClinicalData", "getClinicalDataEntry",
                "listClinicalData", "createReport", "getReport", "listReports", "downloadReport",
                "createWebhook", "getWebhook", "listWebhooks", "deleteWebhook", "listDeliveries",
                "getOutcomes", "getPopulationHealth", phases="probes",
                second_client_id="sandbox-professional", second_client_secret="sandbox-professional-secret")  # fmt: skip
REPORTS = focus("createReport", "getReport", "downloadReport", phases="probes")
HOOKS = focus("createWebhook", "listDeliveries", "deleteWebhook", "createPatient", phases="probes")


def _client_of(request: Request) -> str | None:
    token = request.headers.get("authorization", "")[7:]
    try:
        part = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))).get("client_id")
    except (IndexError, ValueError):
        return None


async def _as_owner(proxy: Proxy, request: Request) -> Response:
    request.headers["authorization"] = f"Bearer {await proxy.token()}"
    return await proxy.forward(request)


def _is(request: Request, method: str, pattern: str) -> bool:
    return request.method == method and re.fullmatch(pattern, request.path) is not None


# -- scopes and tokens ---------------------------------------------------------------------------


async def scope_not_enforced(proxy: Proxy, request: Request, response: Response) -> None:
    if response.status == 403 and request.path.startswith("/v1/"):
        answer = await _as_owner(proxy, request)
        response.status, response.headers, response.body = (
            answer.status,
            answer.headers,
            answer.body,
        )


async def wrong_required_scope(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if response.status == 403 and isinstance(body, dict):
        body["error"]["details"]["required_scope"] = "patients:read"
        response.set_json(body)


async def drop_insufficient_scope(proxy: Proxy, request: Request, response: Response) -> None:
    if response.status == 403:
        response.set_header("www-authenticate", None)


async def grant_everything(proxy: Proxy, request: Request) -> None:
    if request.path == "/oauth/token":
        request.body = re.sub(rb"(^|&)scope=[^&]*", b"", request.body)
        request.headers.pop("content-length", None)


async def expires_in_lies(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if request.path == "/oauth/token" and response.status == 200 and isinstance(body, dict):
        body["expires_in"] = 7200
        response.set_json(body)


async def no_invalid_token(proxy: Proxy, request: Request, response: Response) -> None:
    if response.status == 401 and request.path.startswith("/v1/"):
        response.set_header("www-authenticate", 'Bearer realm="pin"')


# -- tenancy ------------------------------------------------------------------------------------


def _other_client(request: Request) -> bool:
    return _client_of(request) not in (None, OWNER)


async def leak_reads(proxy: Proxy, request: Request, response: Response) -> None:
    if request.method == "GET" and response.status == 404 and _other_client(request):
        answer = await _as_owner(proxy, request)
        if answer.status == 200:
            response.status, response.body = 200, answer.body


async def leak_lists(proxy: Proxy, request: Request) -> Response | None:
    if (
        request.method == "GET"
        and request.path in ("/v1/patients", "/v1/reports", "/v1/webhooks")
        and _other_client(request)
    ):
        return await _as_owner(proxy, request)
    return None


async def leak_analytics(proxy: Proxy, request: Request) -> Response | None:
    if request.path == "/v1/analytics/population-health" and _other_client(request):
        return await _as_owner(proxy, request)
    return None


async def leak_delete(proxy: Proxy, request: Request, response: Response) -> None:
    if request.method == "DELETE" and response.status == 404 and _other_client(request):
        answer = await _as_owner(proxy, request)
        response.status, response.body = answer.status, answer.body


# -- consistency --------------------------------------------------------------------------------


async def frozen_population(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if request.path == "/v1/analytics/population-health" and isinstance(body, dict):
        body["total_patients"] = proxy.state.setdefault("population", body.get("total_patients"))
        response.set_json(body)


async def entries_anywhere(proxy: Proxy, request: Request) -> None:
    match = re.fullmatch(r"/v1/patients/([^/]+)/clinical-data/([^/]+)", request.path)
    owner = proxy.state.get(("entry", match.group(2))) if match else None
    if match and owner and request.method == "GET":
        request.path = f"/v1/patients/{owner}/clinical-data/{match.group(2)}"


async def remember_entries(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    match = re.fullmatch(r"/v1/patients/([^/]+)/clinical-data", request.path)
    if match and request.method == "POST" and response.status == 201 and isinstance(body, dict):
        proxy.state[("entry", body.get("id"))] = match.group(1)


async def paging_repeats(proxy: Proxy, request: Request, response: Response) -> None:
    page = request.get("page") or "1"
    body = response.json()
    if (
        request.path == "/v1/patients"
        and request.method == "GET"
        and page.isdigit()
        and int(page) > 1
        and isinstance(body, dict)
        and body.get("data")
    ):
        previous = Request(request.method, request.path, [(k, v) for k, v in request.query if k != "page"] + [("page", str(int(page) - 1))],
                           dict(request.headers), b"", quote(request.path).encode(), b"")  # fmt: skip
        previous.raw_query = "&".join(f"{k}={quote(v)}" for k, v in previous.query).encode()
        before = (await proxy.forward(previous)).json() or {}
        if before.get("data"):
            body["data"][0] = before["data"][-1]
            response.set_json(body)


async def case_sensitive_search(proxy: Proxy, request: Request, response: Response) -> None:
    term, body = request.get("search"), response.json()
    if (
        request.path == "/v1/patients"
        and term
        and isinstance(body, dict)
        and isinstance(body.get("data"), list)
    ):
        body["data"] = [
            p for p in body["data"] if term in p.get("name", "") or term in p.get("id", "")
        ]
        body["pagination"]["total"] = len(body["data"])
        response.set_json(body)


async def exclusive_start(proxy: Proxy, request: Request) -> None:
    start = request.get("start_date")
    if (
        request.path.endswith("/clinical-data")
        and request.method == "GET"
        and start
        and re.fullmatch(r"\d{4}-\d\d-\d\d", start)
    ):
        day = (date.fromisoformat(start) + timedelta(days=1)).isoformat()
        request.drop_query("start_date")
        request.query.append(("start_date", day))


# -- reports ------------------------------------------------------------------------------------


async def not_ready_first(proxy: Proxy, request: Request, response: Response) -> None:
    if (
        request.path.endswith("/download")
        and response.status == 200
        and request.path not in proxy.state
    ):
        proxy.state[request.path] = True
        response.status = 409
        response.set_header("content-type", "application/json")
        response.set_json(
            {"error": {"code": "REPORT_NOT_READY", "message": "Not ready.", "details": {}}}
        )


async def empty_download(proxy: Proxy, request: Request, response: Response) -> None:
    if request.path.endswith("/download") and response.status == 200:
        response.body = b""


async def octet_stream(proxy: Proxy, request: Request, response: Response) -> None:
    if request.path.endswith("/download") and response.status == 200:
        response.set_header("content-type", "application/octet-stream")


async def wrong_location(proxy: Proxy, request: Request, response: Response) -> None:
    if _is(request, "POST", "/v1/reports") and response.status == 202:
        response.set_header("location", "/v1/reports/rpt_000000000000")


# -- webhooks: a relay between the sandbox and the kit's receiver --------------------------------

RELAY = "/_relay/"


async def _relay_register(proxy: Proxy, request: Request) -> None:
    body = json.loads(request.body or b"{}") if _is(request, "POST", "/v1/webhooks") else None
    if isinstance(body, dict) and isinstance(body.get("url"), str) and "url" in proxy.state:
        body["url"] = proxy.state["url"] + RELAY + quote(body["url"], safe="")
        request.body = json.dumps(body).encode()


async def _deliver(proxy: Proxy, request: Request, headers: dict[str, str]) -> Response:
    target = unquote(request.path[len(RELAY) :])
    proxy.state.setdefault("deliveries", []).append((target, dict(headers), request.body))
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(target, content=request.body, headers=headers)
    return Response(answer.status_code, [], b"")


def relay(change) -> object:
    """An ``on_request`` that relays deliveries through ``change(proxy, headers) -> status or None``."""

    async def hook(proxy: Proxy, request: Request) -> Response | None:
        await _relay_register(proxy, request)
        if not request.path.startswith(RELAY):
            return None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.startswith("webhook-") or k == "content-type"
        }
        forced = change(proxy, headers)
        answer = await _deliver(proxy, request, headers)
        return Response(forced or answer.status, [], b"")

    return hook


def unsigned(proxy: Proxy, headers: dict[str, str]) -> None:
    headers.pop("webhook-signature", None)


def badly_signed(proxy: Proxy, headers: dict[str, str]) -> None:
    headers["webhook-signature"] = "v1," + base64.b64encode(b"0" * 32).decode()


def always_ok(proxy: Proxy, headers: dict[str, str]) -> int:
    return 200  # the sandbox hears 200 whatever the receiver said: it never retries


async def deliver_after_delete(proxy: Proxy, request: Request) -> Response | None:
    answer = await relay(lambda p, h: None)(proxy, request)  # type: ignore[operator]
    if answer is None and request.method == "DELETE" and request.path.startswith("/v1/webhooks/"):
        for target, headers, body in list(proxy.state.get("deliveries", [])):
            resend = {**headers, "webhook-id": headers.get("webhook-id", "msg") + "-again"}
            asyncio.get_running_loop().create_task(_post_later(target, resend, body))
    return answer


async def _post_later(target: str, headers: dict[str, str], body: bytes) -> None:
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            await client.post(target, content=body, headers=headers)
        except httpx.HTTPError:
            pass


# -- rate limits, references, the spec's words -------------------------------------------------


async def remaining_drops_by_two(proxy: Proxy, request: Request, response: Response) -> None:
    remaining = response.header("x-ratelimit-remaining")
    if request.path.startswith("/v1/") and remaining and remaining.isdigit():
        response.set_header("x-ratelimit-remaining", str(max(0, int(remaining) - proxy.counter)))


async def reset_in_the_past(proxy: Proxy, request: Request, response: Response) -> None:
    if request.path.startswith("/v1/") and response.header("x-ratelimit-reset"):
        response.set_header("x-ratelimit-reset", str(int(time.time()) - 30))


async def unknown_patient_analytics(proxy: Proxy, request: Request) -> Response | None:
    if request.path == "/v1/analytics/outcomes" and request.get("patient_id"):
        answer = await proxy.forward(request)
        if answer.status == 404:
            request.drop_query("patient_id")
            request.raw_query = "&".join(f"{k}={quote(v)}" for k, v in request.query).encode()
            return await proxy.forward(request)
    return None


async def unknown_query_ignored(proxy: Proxy, request: Request) -> None:
    if request.path.startswith("/v1/"):
        request.query = [(k, v) for k, v in request.query if k in KNOWN_QUERY]


async def limit_100_refused(proxy: Proxy, request: Request) -> Response | None:
    if request.method == "GET" and request.get("limit") == "100":
        answer = await proxy.forward(request)
        answer.status = 400
        answer.body = json.dumps({"error": {"code": "INVALID_PARAMETER", "message": "limit too large",
                                            "details": {"parameter": "limit", "value": 100}}}).encode()  # fmt: skip
        return answer
    return None


async def own_date_message(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None  # OAuth errors are strings
    if response.status == 400 and isinstance(error, dict) and "date" in str(error.get("message")):
        error["message"] = "Bad date."
        response.set_json(body)


def blind(name: str, breaks: str, kills: set[str], focus_: dict, **hooks: object) -> Mutant:
    return Mutant(name, breaks, frozenset(kills), focus_, **hooks)  # type: ignore[arg-type]


SCOPES = focus(*SCOPE_FOCUS, phases="probes")
ENTRY = focus(
    "createPatient", "addClinicalData", "getClinicalDataEntry", "listClinicalData", phases="probes"
)

BLIND_MUTANTS = [
    blind("scope-not-enforced", "a token without the scope is served", {"pin_scope_enforced"}, SCOPES, on_response=scope_not_enforced),
    blind("wrong-required-scope", "403 names the wrong required_scope", {"pin_forbidden_scope"}, SCOPES, on_response=wrong_required_scope),
    blind("no-insufficient-scope", "403 without WWW-Authenticate insufficient_scope", {"pin_forbidden_scope"}, SCOPES, on_response=drop_insufficient_scope),
    blind("token-grants-everything", "the token endpoint ignores scope", {"pin_token_scope", "pin_scope_enforced"}, SCOPES, on_request=grant_everything),
    blind("expires-in-lies", "expires_in says 7200, the JWT lives 3600 s", {"pin_token_claims"}, SCOPES, on_response=expires_in_lies),
    blind("401-without-invalid-token", "a bad token's 401 has no error=invalid_token", {"pin_bearer_error"}, SCOPES, on_response=no_invalid_token),
    blind("tenancy-leak-get", "another client reads the first's resources", {"pin_tenancy"}, TENANCY, on_response=leak_reads),
    blind("tenancy-leak-list", "another client lists the first's resources", {"pin_tenancy"}, TENANCY, on_request=leak_lists),
    blind("tenancy-leak-analytics", "population-health counts every client's patients", {"pin_tenancy"}, TENANCY, on_request=leak_analytics),
    blind("tenancy-leak-delete", "another client deletes the first's webhook", {"pin_tenancy"}, TENANCY, on_response=leak_delete),
    blind("population-frozen", "total_patients never moves", {"pin_consistency"},
          focus("listPatients", "getPopulationHealth", "createPatient", phases="probes"), on_response=frozen_population),
    blind("entry-under-any-patient", "an entry is served under any patient", {"pin_entry_owner", "pin_resource_identity"}, ENTRY,
          on_request=entries_anywhere, on_response=remember_entries),
    blind("paging-repeats", "page n starts with page n-1's last item", {"pin_paging_walk"}, focus("listPatients", phases="probes"),
          on_response=paging_repeats),
    blind("search-case-sensitive", "search matches the letter case exactly", {"pin_created_listed"},
          focus("createPatient", "getPatient", "listPatients", phases="probes"), on_response=case_sensitive_search),
    blind("exclusive-start-date", "start_date excludes its own day", {"pin_created_listed"}, ENTRY, on_request=exclusive_start),
    blind("completed-before-file", "completed reports answer 409 on the first download", {"pin_report_lifecycle"}, REPORTS, on_response=not_ready_first),
    blind("empty-download", "a completed report downloads as an empty 200", {"pin_report_lifecycle"}, REPORTS, on_response=empty_download),
    blind("download-media-type", "every report downloads as application/octet-stream", {"pin_report_lifecycle"}, REPORTS, on_response=octet_stream),
    blind("report-location-wrong", "202's Location names another report", {"pin_created_location", "pin_created_readable"},
          focus("createReport", "getReport", "listReports", phases="probes"), on_response=wrong_location),
    blind("webhook-unsigned", "deliveries carry no webhook-signature", {"pin_webhook_delivery"}, HOOKS, on_request=relay(unsigned)),
    blind("webhook-bad-signature", "deliveries are signed with the wrong key", {"pin_webhook_delivery"}, HOOKS, on_request=relay(badly_signed)),
    blind("webhook-no-retry", "a delivery answered 500 is never retried", {"pin_webhook_delivery"}, HOOKS, on_request=relay(always_ok)),
    blind("webhook-after-delete", "a deleted webhook still gets deliveries", {"pin_webhook_delivery"}, HOOKS, on_request=deliver_after_delete),
    blind("remaining-drops-by-two", "each request costs two", {"pin_rate_limit_accounting"}, focus("listPatients", phases="probes"),
          on_response=remaining_drops_by_two),
    blind("reset-in-the-past", "X-RateLimit-Reset is 30 s ago", {"pin_rate_limit_headers"}, focus("listPatients", phases="probes"),
          on_response=reset_in_the_past),
    blind("analytics-unknown-patient", "outcomes for an unknown patient_id are 200", {"pin_unknown_reference"},
          focus("getOutcomes", phases="probes"), on_request=unknown_patient_analytics),
    blind("unknown-query-accepted", "unknown query parameters are ignored", {"pin_unknown_parameter"},
          focus("listPatients", "listReports", phases="probes"), on_request=unknown_query_ignored),
    blind("limit-100-refused", "limit=100 (the documented maximum) is refused", {"pin_documented_bounds"},
          focus("listPatients", phases="probes"), on_request=limit_100_refused),
    blind("date-message-differs", "the date error says 'Bad date.'", {"pin_documented_messages"},
          focus("listClinicalData", "getOutcomes", phases="probes"), on_response=own_date_message),
]  # fmt: skip
