"""The token endpoint: RFC 6749 errors and uncacheable Bearer answers.

The endpoint is the spec's ``tokenUrl``; its error codes are the enum of the
``error`` field of its documented error answers (RFC 6749 section 5.2's list
when the spec documents none).
"""

from __future__ import annotations

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown
from pin_mock.contract.spec import Spec

#: RFC 6749 section 5.2, for a spec that does not list the token errors itself.
RFC6749_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)


@check("pin_oauth_error")
def oauth_error(ex: Exchange, spec: Spec) -> None:
    """Token-endpoint errors follow RFC 6749 section 5.2."""
    # RFC 6749 governs POST to the token endpoint; a 405 to TRACE /oauth/token is HTTP's business.
    if ex.status < 400 or ex.method != "POST" or not spec.is_token_endpoint(ex.template):
        return
    body = ex.json()
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        fail(
            f"{ex.status} from the token endpoint is not an RFC 6749 error "
            f'{{"error": "...", "error_description": "..."}}: {shown(ex.snippet())}'
        )
    error = body["error"]
    known = spec.oauth_error_codes or RFC6749_ERRORS
    if error not in known:
        fail(f"token error {shown(error)} is not an RFC 6749 code ({', '.join(sorted(known))})")
    for name in ("error_description", "error_uri"):
        if name in body and not isinstance(body[name], str):
            fail(f"token error field {name} must be a string")
    if ex.status == 401 and error != "invalid_client":
        fail(f"401 from the token endpoint must be invalid_client, got {shown(error)}")
    if error == "invalid_client" and ex.status not in (400, 401):
        fail(f"invalid_client must be answered with 400 or 401, got {ex.status}")
    if error != "server_error" and 500 <= ex.status:
        fail(f"a {ex.status} from the token endpoint must say server_error, got {shown(error)}")
    used_basic = ex.request_headers.get("authorization", "").lower().startswith("basic ")
    if ex.status == 401 and used_basic and not ex.header("www-authenticate"):
        fail("401 to an HTTP Basic client lacks WWW-Authenticate (RFC 6749 section 5.2)")


@check("pin_token_response")
def token_response(ex: Exchange, spec: Spec) -> None:
    """Token answers are not cacheable and are Bearer tokens (RFC 6749 section 5.1)."""
    if ex.status != 200 or not spec.is_token_endpoint(ex.template) or ex.method != "POST":
        return
    cache_control = ",".join(ex.header_values("cache-control")).lower()
    if "no-store" not in cache_control:
        fail("a token response must carry Cache-Control: no-store (RFC 6749 section 5.1)")
    if "no-cache" not in ",".join(ex.header_values("pragma")).lower():
        fail("a token response must carry Pragma: no-cache (RFC 6749 section 5.1)")
    body = ex.json()
    if isinstance(body, dict) and str(body.get("token_type", "")).lower() != "bearer":
        fail(f"token_type must be Bearer, got {shown(body.get('token_type'))}")
