"""PIN's own rules, as pure functions of one ``Exchange``.

Each rule returns quietly when it holds or does not apply, and raises
``ContractViolation`` (an ``AssertionError``) naming what is wrong. The
Schemathesis checks in ``checks.py`` and the kit's probes both call them.
Rate-limit rules live in ``ratelimits.py``; paging and filters in ``listing.py``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pin_mock.contract.exchange import Exchange, fail

#: The ``code`` values of PIN's error envelope (components.schemas.Error).
ERROR_CODES = frozenset(
    {
        "INVALID_PARAMETER",
        "INVALID_REQUEST",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "METHOD_NOT_ALLOWED",
        "CONFLICT",
        "REPORT_NOT_READY",
        "UNSUPPORTED_MEDIA_TYPE",
        "RATE_LIMIT_EXCEEDED",
        "INTERNAL_ERROR",
    }
)

#: Codes that can go with a status; a status not listed here accepts any known code.
CODES_BY_STATUS: dict[int, frozenset[str]] = {
    400: frozenset({"INVALID_PARAMETER", "INVALID_REQUEST"}),
    401: frozenset({"UNAUTHORIZED"}),
    403: frozenset({"FORBIDDEN"}),
    404: frozenset({"NOT_FOUND"}),
    405: frozenset({"METHOD_NOT_ALLOWED"}),
    409: frozenset({"CONFLICT", "REPORT_NOT_READY"}),
    415: frozenset({"UNSUPPORTED_MEDIA_TYPE"}),
    429: frozenset({"RATE_LIMIT_EXCEEDED"}),
    500: frozenset({"INTERNAL_ERROR"}),
}

#: RFC 6749 section 5.2 error codes (the spec's OAuthError adds ``server_error``).
OAUTH_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "server_error",
    }
)


def error_envelope(ex: Exchange) -> None:
    """Every 4xx/5xx under ``/v1`` is ``{"error": {"code": str, "message": str, ...}}``."""
    if ex.status < 400 or not ex.is_v1:
        return
    body = ex.json()
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        fail(
            f"{ex.status} answer is not PIN's error envelope "
            f'{{"error": {{"code", "message", "details"}}}}: {ex.snippet()!r}'
        )
    error = body["error"]
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        fail(f"error.code and error.message must be strings, got {error!r:.200}")
    if "details" in error and not isinstance(error["details"], dict):
        fail(f"error.details must be an object, got {type(error['details']).__name__}")
    if code not in ERROR_CODES:
        fail(f"error.code {code!r} is not one of PIN's codes ({', '.join(sorted(ERROR_CODES))})")
    expected = CODES_BY_STATUS.get(ex.status)
    if expected is not None and code not in expected:
        fail(
            f"status {ex.status} carries error.code {code!r}; expected {' or '.join(sorted(expected))}"
        )


def oauth_error(ex: Exchange) -> None:
    """Token-endpoint errors follow RFC 6749 section 5.2."""
    if ex.status < 400 or not ex.is_token_endpoint:
        return
    body = ex.json()
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        fail(
            f"{ex.status} from the token endpoint is not an RFC 6749 error "
            f'{{"error": "...", "error_description": "..."}}: {ex.snippet()!r}'
        )
    error = body["error"]
    if error not in OAUTH_ERRORS:
        fail(f"token error {error!r} is not an RFC 6749 code ({', '.join(sorted(OAUTH_ERRORS))})")
    for name in ("error_description", "error_uri"):
        if name in body and not isinstance(body[name], str):
            fail(f"token error field {name} must be a string")
    if ex.status == 401 and error != "invalid_client":
        fail(f"401 from the token endpoint must be invalid_client, got {error!r}")
    if error == "invalid_client" and ex.status not in (400, 401):
        fail(f"invalid_client must be answered with 400 or 401, got {ex.status}")
    if error != "server_error" and 500 <= ex.status:
        fail(f"a {ex.status} from the token endpoint must say server_error, got {error!r}")
    used_basic = ex.request_headers.get("authorization", "").lower().startswith("basic ")
    if ex.status == 401 and used_basic and not ex.header("www-authenticate"):
        fail("401 to an HTTP Basic client lacks WWW-Authenticate (RFC 6749 section 5.2)")


def token_response(ex: Exchange) -> None:
    """A token answer must not be cached (RFC 6749 section 5.1)."""
    if ex.status != 200 or not ex.is_token_endpoint or ex.method != "POST":
        return
    cache_control = ",".join(ex.header_values("cache-control")).lower()
    if "no-store" not in cache_control:
        fail("a token response must carry Cache-Control: no-store (RFC 6749 section 5.1)")
    if "no-cache" not in ",".join(ex.header_values("pragma")).lower():
        fail("a token response must carry Pragma: no-cache (RFC 6749 section 5.1)")
    body = ex.json()
    if isinstance(body, dict) and str(body.get("token_type", "")).lower() != "bearer":
        fail(f"token_type must be Bearer, got {body.get('token_type')!r}")


def unauthorized_challenge(ex: Exchange) -> None:
    """A 401 under ``/v1`` carries a ``Bearer`` challenge in ``WWW-Authenticate`` (RFC 6750)."""
    if ex.status != 401 or not ex.is_v1:
        return
    challenge = ex.header("www-authenticate")
    if not challenge:
        fail("401 without a WWW-Authenticate header (RFC 6750 section 3)")
    if not challenge.lower().startswith("bearer"):
        fail(f"WWW-Authenticate must be a Bearer challenge, got {challenge!r}")


def resource_identity(ex: Exchange) -> None:
    """``GET .../{id}`` answers the resource asked for; webhook secrets are never shown again."""
    if ex.method != "GET" or ex.status != 200 or not ex.is_v1:
        return
    body = ex.json()
    last = ex.template.rstrip("/").rsplit("/", 1)[-1]
    if isinstance(body, dict) and last.startswith("{") and last.endswith("}"):
        name = last[1:-1]
        asked = ex.path_params.get(name)
        if asked is not None and "id" in body and str(body["id"]) != str(asked):
            fail(f"asked for {name}={asked!r} and got the resource with id {body['id']!r}")
        if "patient_id" in ex.path_params and "patient_id" in body and name != "patient_id":
            if str(body["patient_id"]) != str(ex.path_params["patient_id"]):
                fail(
                    f"entry of patient {body['patient_id']!r} served under {ex.path_params['patient_id']!r}"
                )
    if ex.template.startswith("/v1/webhooks") and isinstance(body, dict):
        items = body.get("data") if isinstance(body.get("data"), list) else [body]
        if any(isinstance(item, dict) and "secret" in item for item in items):
            fail("a webhook's signing secret is shown after creation (only POST may return it)")


def created_location(ex: Exchange) -> None:
    """A 201/202 to a ``POST`` under ``/v1`` has a ``Location`` naming the new resource."""
    if ex.method != "POST" or ex.status not in (201, 202) or not ex.is_v1:
        return
    location = ex.header("location")
    if not location:
        fail(f"{ex.status} to POST {ex.template} without a Location header")
    body = ex.json()
    if isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"]:
        path = urlsplit(location).path.rstrip("/")
        if not path.endswith("/" + body["id"]):
            fail(f"Location {location!r} does not point to the created resource {body['id']!r}")
