"""The error envelope of the versioned API, and the Bearer challenge of its 401s.

The codes come from the spec: its ``error.code`` enum says which codes exist,
and its error examples say which code goes with which status. PIN's written
pairings (below) fill in what the examples do not show, limited to codes the
spec still has, so a revised spec's new code or status is followed unchanged.
"""

from __future__ import annotations

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown
from pin_mock.contract.spec import Spec

#: PIN's documented status/code pairings that its spec's examples do not all show.
DOCUMENTED_PAIRINGS: dict[int, frozenset[str]] = {
    400: frozenset({"INVALID_PARAMETER", "INVALID_REQUEST"}),
    405: frozenset({"METHOD_NOT_ALLOWED"}),
    409: frozenset({"CONFLICT", "REPORT_NOT_READY"}),
}


def codes_for_status(spec: Spec, status: int) -> frozenset[str]:
    """The codes a status may carry; empty when the spec says nothing (any code will do)."""
    paired = spec.error_codes_by_status.get(status, frozenset())
    return (paired | DOCUMENTED_PAIRINGS.get(status, frozenset())) & spec.error_codes


@check("pin_error_envelope")
def error_envelope(ex: Exchange, spec: Spec) -> None:
    """Every 4xx/5xx of the API is {"error": {"code", "message", "details"}} with a matching code."""
    if ex.status < 400 or not spec.in_api(ex.template):
        return
    body = ex.json()
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        fail(
            f"{ex.status} answer is not PIN's error envelope "
            f'{{"error": {{"code", "message", "details"}}}}: {shown(ex.snippet())}'
        )
    error = body["error"]
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        fail(f"error.code and error.message must be strings, got {error!r:.200}")
    if "details" in error and not isinstance(error["details"], dict):
        fail(f"error.details must be an object, got {type(error['details']).__name__}")
    known = spec.error_codes
    if known and code not in known:
        fail(f"error.code {shown(code)} is not one of PIN's codes ({', '.join(sorted(known))})")
    expected = codes_for_status(spec, ex.status)
    if expected and code not in expected:
        fail(
            f"status {ex.status} carries error.code {shown(code)}; expected {' or '.join(sorted(expected))}"
        )


@check("pin_unauthorized_challenge")
def unauthorized_challenge(ex: Exchange, spec: Spec) -> None:
    """A 401 of the API carries a Bearer challenge in WWW-Authenticate (RFC 6750)."""
    if ex.status != 401 or not spec.in_api(ex.template):
        return
    challenge = ex.header("www-authenticate")
    if not challenge:
        fail("401 without a WWW-Authenticate header (RFC 6750 section 3)")
    if not challenge.lower().startswith("bearer"):
        fail(f"WWW-Authenticate must be a Bearer challenge, got {shown(challenge)}")
