"""The third set: one broken implementation per class of defect a hidden set survived (issue 21).

Same shape as ``kit_mutants``: a proxy in front of the real sandbox breaks one
thing. Each class has its own check in the kit (named in ``kills``):

- a delivery whose body disagrees with its own headers (re-signed, so it verifies);
- a delivery log that misreports what the receiver answered;
- one of the contract's two client-authentication methods refused;
- a rate-limit budget that other clients' requests consume;
- a report file whose numbers differ from the analytics endpoints';
- analytics that ignore part of what was asked while echoing it back;
- aggregates whose parts do not add up to their total;
- a write whose answer disagrees with what was written.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from urllib.parse import quote

from kit_mutants import Mutant, Proxy, Request, Response, focus
from kit_mutants_blind import HOOKS, RELAY, _deliver, _relay_register

SECOND = {
    "second_client_id": "sandbox-professional",
    "second_client_secret": "sandbox-professional-secret",
}


# -- deliveries ---------------------------------------------------------------------------------


async def remember_secrets(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if request.method == "POST" and request.path == "/v1/webhooks" and isinstance(body, dict):
        proxy.state.setdefault("secrets", {})[body.get("url")] = body.get("secret")


async def id_mismatch(proxy: Proxy, request: Request) -> Response | None:
    """Relay deliveries with a new webhook-id, re-signed: they verify, but the body's id differs."""
    await _relay_register(proxy, request)
    if not request.path.startswith(RELAY):
        return None
    from standardwebhooks import Webhook

    headers = {
        k: v for k, v in request.headers.items() if k.startswith("webhook-") or k == "content-type"
    }
    secret = proxy.state.get("secrets", {}).get(
        proxy.state.get("url", "") + request.raw_path.decode()
    )
    if secret:
        headers["webhook-id"] = "msg_" + secrets.token_hex(6)
        stamp = datetime.fromtimestamp(int(headers.get("webhook-timestamp", "0")), UTC)
        headers["webhook-signature"] = Webhook(secret).sign(
            headers["webhook-id"], stamp, request.body.decode()
        )
    answer = await _deliver(proxy, request, headers)
    return Response(answer.status, [], b"")


async def log_says_succeeded(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if re.fullmatch(r"/v1/webhooks/[^/]+/deliveries", request.path) and isinstance(body, dict):
        for entry in body.get("data") or []:
            if entry.get("status") == "failed":
                entry["status"], entry["status_code"], entry["error"] = "succeeded", 200, None
        response.set_json(body)


# -- tokens and budgets -------------------------------------------------------------------------


async def basic_refused(proxy: Proxy, request: Request) -> Response | None:
    if request.path == "/oauth/token" and request.headers.get(
        "authorization", ""
    ).lower().startswith("basic "):
        body = {"error": "invalid_client", "error_description": "Client authentication failed."}
        headers = [("content-type", "application/json"), ("cache-control", "no-store"), ("pragma", "no-cache"),
                   ("www-authenticate", 'Basic realm="pin"')]  # fmt: skip
        return Response(401, headers, json.dumps(body).encode())
    return None


async def shared_budget(proxy: Proxy, request: Request, response: Response) -> None:
    """One budget for every client: X-RateLimit-Remaining counts all their requests together."""
    limit = response.header("x-ratelimit-limit")
    if request.path.startswith("/v1/") and limit and limit.isdigit():
        proxy.state["spent"] = spent = proxy.state.get("spent", 0) + 1
        response.set_header("x-ratelimit-remaining", str(max(0, int(limit) - spent)))


# -- analytics and reports ----------------------------------------------------------------------


async def report_off_by_one(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if request.path.endswith("/download") and response.status == 200 and isinstance(body, dict):
        outcomes = (body.get("summary") or {}).get("outcomes")
        if isinstance(outcomes, dict) and isinstance(outcomes.get("patients"), int):
            outcomes["patients"] += 1
            response.set_json(body)


async def drop_interval(proxy: Proxy, request: Request) -> None:
    if request.path == "/v1/analytics/outcomes" and request.get("interval"):
        proxy.state[id(request)] = request.get("interval")
        request.drop_query("interval")
        request.raw_query = "&".join(f"{k}={quote(v)}" for k, v in request.query).encode()


async def echo_interval(proxy: Proxy, request: Request, response: Response) -> None:
    asked, body = proxy.state.pop(id(request), None), response.json()
    if asked and isinstance(body, dict):
        body["interval"] = asked  # echoed back, though the periods ignore it
        response.set_json(body)


async def parts_exceed_total(proxy: Proxy, request: Request, response: Response) -> None:
    body = response.json()
    if request.path == "/v1/analytics/population-health" and isinstance(body, dict):
        genders = body.get("by_gender")
        if isinstance(genders, dict) and "other" in genders:
            genders["other"] += 2
            response.set_json(body)


async def cut_names(proxy: Proxy, request: Request) -> None:
    """Stores a patient's name cut to eight characters (and answers with what it stored)."""
    if request.method == "POST" and request.path == "/v1/patients":
        try:
            body = json.loads(request.body)
        except ValueError:
            return
        if (
            isinstance(body, dict)
            and isinstance(body.get("name"), str)
            and len(body["name"].strip()) > 8
        ):
            body["name"] = body["name"].strip()[:8]
            request.body = json.dumps(body).encode()


def third(name: str, breaks: str, kills: set[str], focus_: dict, **hooks: object) -> Mutant:
    return Mutant(name, breaks, frozenset(kills), focus_, **hooks)  # type: ignore[arg-type]


REPORT_VS_ANALYTICS = focus("createReport", "getReport", "downloadReport", "getOutcomes", "getPopulationHealth",
                            "createPatient", phases="probes")  # fmt: skip
THIRD_MUTANTS = [
    third("delivery-id-mismatch", "a delivery's webhook-id is not its body's id (re-signed)", {"pin_delivery_consistency"},
          HOOKS, on_request=id_mismatch, on_response=remember_secrets),
    third("delivery-log-lies", "the delivery log says succeeded 200 for a 500", {"pin_delivery_log"},
          HOOKS, on_response=log_says_succeeded),
    third("basic-auth-refused", "the token endpoint refuses HTTP Basic", {"pin_token_auth_methods"},
          focus("issueToken", phases="probes"), on_request=basic_refused),
    third("shared-rate-budget", "every client's requests spend one budget", {"pin_rate_limit_isolation"},
          focus("listPatients", phases="probes", **SECOND), on_response=shared_budget),
    third("report-numbers-differ", "a report's summary counts one patient more than the analytics",
          {"pin_report_matches_analytics"}, REPORT_VS_ANALYTICS, on_response=report_off_by_one),
    third("analytics-ignore-interval", "outcomes ignore interval but echo it", {"pin_analytics_parameters"},
          focus("getOutcomes", "createPatient", phases="probes"), on_request=drop_interval, on_response=echo_interval),
    third("aggregate-parts-exceed", "by_gender sums to more than total_patients", {"pin_aggregate_totals"},
          focus("getPopulationHealth", phases="coverage"), on_response=parts_exceed_total),
    third("write-echo-differs", "a patient's name is stored cut to eight characters", {"pin_write_echo"},
          focus("createPatient", phases="examples"), on_request=cut_names),
]  # fmt: skip
