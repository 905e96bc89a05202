"""A PIN implementation of three operations: the token endpoint, list patients, get a patient.

An API team's first milestone, written from the contract (``openapi/pin.yaml``)
alone, as the worked example of testing a partial implementation::

    uvicorn app:app --port 8090          # from this directory (Starlette + uvicorn)
    pin-mock contract --base-url http://127.0.0.1:8090 \\
        --client-id partial-client --client-secret partial-secret --report-dir report

The kit's first pass finds the fifteen other operations not implemented (they
answer 404 or 405) and reports them apart; what it judges is these three.
Everything here is plain Starlette: no pin-mock code. ``PARTIAL_BUG=search``
plants a real defect (a case-sensitive search) to see the kit report it, and
nothing else.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import time
import uuid

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CLIENTS = {"partial-client": "partial-secret"}
SCOPES = {"patients:read"}
TOKEN_LIFETIME = 3600
LIMIT, WINDOW = 10_000, 3600
PATIENTS = [
    {"id": "patient_123", "name": "John Doe", "date_of_birth": "1980-01-15", "gender": "male",
     "contact": {"email": "john.doe@example.com", "phone": "+1-555-0123"},
     "created_at": "2024-01-01T00:00:00Z"},
    {"id": "patient_124", "name": "Jane Smith", "date_of_birth": "1985-05-20", "gender": "female",
     "contact": {"email": "jane.smith@example.com"}, "created_at": "2024-01-02T00:00:00Z"},
    {"id": "patient_125", "name": "Ana Lopez", "date_of_birth": "1972-11-03", "gender": "other",
     "contact": {}, "created_at": "2024-01-03T00:00:00Z"},
]  # fmt: skip
tokens: dict[str, tuple[str, set[str], float]] = {}
spent: dict[tuple[str, int], int] = {}


def oauth_error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    headers |= {"Cache-Control": "no-store", "Pragma": "no-cache"}
    return JSONResponse({"error": error, "error_description": description}, status, headers)


async def issue_token(request: Request) -> Response:
    if (
        request.headers.get("content-type", "").split(";")[0].strip()
        != "application/x-www-form-urlencoded"
    ):
        return oauth_error(
            415, "invalid_request", "Send the body as application/x-www-form-urlencoded."
        )
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - an unreadable body is the client's problem
        return oauth_error(400, "invalid_request", "The body is not a form.")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    basic = request.headers.get("authorization", "")
    if basic and secret is not None:
        return oauth_error(
            400, "invalid_request", "Send the credentials in the body or with HTTP Basic, not both."
        )
    if basic.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        except ValueError:
            client_id = secret = None
    if CLIENTS.get(str(client_id)) != secret or not secret:
        challenge = {"WWW-Authenticate": 'Basic realm="pin"'} if basic else {}
        return oauth_error(401, "invalid_client", "Client authentication failed.", **challenge)
    if "grant_type" not in form:
        return oauth_error(400, "invalid_request", "grant_type is required.")
    if form["grant_type"] != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials.")
    asked = set(str(form.get("scope") or "").split()) or SCOPES
    if not asked <= SCOPES:
        return oauth_error(400, "invalid_scope", "A scope is not granted to this client.")
    token = secrets.token_urlsafe(24)
    tokens[token] = (str(client_id), asked, time.time() + TOKEN_LIFETIME)
    body = {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME,
            "scope": " ".join(sorted(asked))}  # fmt: skip
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def envelope(
    status: int, code: str, message: str, details: dict | None = None, **headers: str
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details or {}}}, status, headers
    )


def caller(request: Request, scope: str) -> str | JSONResponse:
    """The client calling, or the 401/403 that refuses it."""
    header = request.headers.get("authorization", "")
    if not header:
        return envelope(401, "UNAUTHORIZED", "An access token is required.",
                        **{"WWW-Authenticate": 'Bearer realm="pin"'})  # fmt: skip
    found = tokens.get(header[7:]) if header.lower().startswith("bearer ") else None
    if found is None or found[2] < time.time():
        return envelope(401, "UNAUTHORIZED", "The access token is invalid or expired.",
                        **{"WWW-Authenticate": 'Bearer realm="pin", error="invalid_token"'})  # fmt: skip
    if scope not in found[1]:
        return envelope(403, "FORBIDDEN", f"This operation requires the scope {scope}.", {"required_scope": scope},
                        **{"WWW-Authenticate": f'Bearer realm="pin", error="insufficient_scope", scope="{scope}"'})  # fmt: skip
    return found[0]


def integer(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    values = request.query_params.getlist(name)
    if not values:
        return default
    raw = values[0]
    if len(values) > 1 or not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise BadParameter(name, raw, f"Invalid value for parameter '{name}': must be an integer.")
    value = int(raw)
    if value < low:
        raise BadParameter(
            name, raw, f"Invalid value for parameter '{name}': must be at least {low}."
        )
    if high is not None and value > high:
        raise BadParameter(
            name, raw, f"Invalid value for parameter '{name}': must be at most {high}."
        )
    return value


class BadParameter(Exception):
    def __init__(self, name: str, value: str, message: str) -> None:
        self.name, self.value, self.message = name, value, message


def checked(request: Request, allowed: set[str]) -> None:
    for name in request.query_params:
        if name not in allowed:
            raise BadParameter(
                name, request.query_params[name], f"Unknown query parameter '{name}'."
            )
        if len(request.query_params.getlist(name)) > 1:
            raise BadParameter(name, request.query_params[name], f"Parameter '{name}' is repeated.")


async def list_patients(request: Request) -> Response:
    who = caller(request, "patients:read")
    if isinstance(who, Response):
        return who
    checked(request, {"page", "limit", "search"})
    page, limit = integer(request, "page", 1, 1, 2**53 - 1), integer(request, "limit", 50, 1, 100)
    search = request.query_params.get("search", "")
    if len(search) > 200:
        raise BadParameter(
            "search", search[:100], "Invalid value for parameter 'search': at most 200 characters."
        )
    if os.environ.get("PARTIAL_BUG") == "search":  # the planted defect: letter case matters
        found = [p for p in PATIENTS if search.strip() in p["name"] or search.strip() in p["id"]]
    else:
        term = search.strip().casefold()
        found = [p for p in PATIENTS if term in p["name"].casefold() or term in p["id"].casefold()]
    data = [{k: p[k] for k in ("id", "name", "date_of_birth", "created_at")}
            for p in found[(page - 1) * limit : page * limit]]  # fmt: skip
    return JSONResponse(
        {"data": data, "pagination": {"page": page, "limit": limit, "total": len(found)}}
    )


async def get_patient(request: Request) -> Response:
    who = caller(request, "patients:read")
    if isinstance(who, Response):
        return who
    checked(request, set())
    patient_id = request.path_params["patient_id"]
    if len(patient_id) > 64:
        raise BadParameter(
            "patient_id",
            patient_id[:100],
            "Invalid value for parameter 'patient_id': must be at most 64 characters.",
        )
    patient = next((p for p in PATIENTS if p["id"] == patient_id), None)
    if patient is None:
        return envelope(404, "NOT_FOUND", f"Patient {patient_id} not found.")
    return JSONResponse({**patient, "medical_history": []})


async def rate_limited(request: Request, call_next) -> Response:
    """Every /v1 answer carries the client's budget (per token's client, else per address)."""
    if not request.url.path.startswith("/v1"):
        response = await call_next(request)
        response.headers["X-Request-Id"] = request_id(request)
        return response
    header = request.headers.get("authorization", "")
    found = tokens.get(header[7:]) if header.lower().startswith("bearer ") else None
    who = found[0] if found else f"address {request.client.host if request.client else '?'}"
    window = int(time.time()) // WINDOW
    spent[(who, window)] = used = spent.get((who, window), 0) + 1
    reset = (window + 1) * WINDOW
    if used > LIMIT:
        response: Response = envelope(429, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded.",
                                      **{"Retry-After": str(max(1, reset - int(time.time())))})  # fmt: skip
    else:
        response = await call_next(request)
    response.headers.update({
        "X-RateLimit-Limit": str(LIMIT), "X-RateLimit-Remaining": str(max(0, LIMIT - used)),
        "X-RateLimit-Reset": str(reset), "Cache-Control": "no-store", "X-Request-Id": request_id(request),
    })  # fmt: skip
    return response


def request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", given) else uuid.uuid4().hex


async def bad_parameter(request: Request, bad: BadParameter) -> Response:
    return envelope(
        400, "INVALID_PARAMETER", bad.message, {"parameter": bad.name, "value": bad.value}
    )


async def http_error(request: Request, exc: HTTPException) -> Response:
    """Unknown routes and methods: PIN's envelope under /v1 (what is not built yet answers 404/405)."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        return envelope(405, "METHOD_NOT_ALLOWED", "Method not allowed.", **headers)
    if exc.status_code == 404:
        return envelope(404, "NOT_FOUND", "Not found.")
    return envelope(exc.status_code, "INVALID_REQUEST", str(exc.detail))


app = Starlette(
    routes=[
        Route("/oauth/token", issue_token, methods=["POST"]),
        Route("/v1/patients", list_patients, methods=["GET"]),
        Route("/v1/patients/{patient_id}", get_patient, methods=["GET"]),
    ],
    exception_handlers={HTTPException: http_error, BadParameter: bad_parameter},
    middleware=[Middleware(BaseHTTPMiddleware, dispatch=rate_limited)],
)
