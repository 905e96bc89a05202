"""Refusals that say why: RFC 6750 challenges on 401s and the missing scope on 403s.

A 401 to a request that carried a bearer token names the problem
(``error="invalid_token"``, RFC 6750 section 3.1); a 401 to a request without
credentials is a bare challenge with no ``error`` (section 3.1: "SHOULD NOT
include an error code"). A 403 for a token without the operation's scope is
PIN's ``FORBIDDEN`` envelope naming ``details.required_scope`` (one of the
scopes the spec lists for the operation) with ``error="insufficient_scope"``.
"""

from __future__ import annotations

import re

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown
from pin_mock.contract.spec import Spec

_ERROR = re.compile(r'\berror\s*=\s*"?([A-Za-z_]+)"?')
#: What a present but unusable bearer token may be answered with (RFC 6750 section 3.1).
TOKEN_ERRORS = frozenset({"invalid_token", "invalid_request"})


def challenge_error(challenge: str | None) -> str | None:
    """The ``error`` attribute of a ``WWW-Authenticate`` challenge, if any."""
    match = _ERROR.search(challenge or "")
    return match.group(1) if match else None


@check("pin_bearer_error")
def bearer_error(ex: Exchange, spec: Spec) -> None:
    """A 401 names invalid_token when a token was sent, and no error when none was."""
    if ex.status != 401 or not spec.in_api(ex.template):
        return
    challenge = ex.header("www-authenticate")
    if not challenge:
        return  # pin_unauthorized_challenge's finding
    sent = ex.request_headers.get("authorization")
    error = challenge_error(challenge)
    if sent is None and error is not None:
        fail(
            f"a request without credentials got a challenge with error={shown(error)}; "
            "RFC 6750 section 3.1 says no error code then"
        )
    if sent is not None and sent.lower().startswith("bearer ") and sent[7:].strip():
        if error not in TOKEN_ERRORS:
            fail(
                f"a request with a bearer token got 401 with challenge {shown(challenge)}; "
                'RFC 6750 section 3.1 expects error="invalid_token"'
            )


@check("pin_forbidden_scope")
def forbidden_scope(ex: Exchange, spec: Spec) -> None:
    """A 403 is FORBIDDEN with details.required_scope (one of the operation's) and insufficient_scope."""
    if ex.status != 403 or not spec.in_api(ex.template):
        return
    body = ex.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return  # pin_error_envelope's finding
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    required = details.get("required_scope")
    if not isinstance(required, str) or not required:
        fail(f"403 without details.required_scope: {shown(ex.snippet())}")
    operation = spec.find(ex.method, ex.template)
    if operation is not None and operation.scopes and required not in operation.scopes:
        fail(
            f"403 names required_scope {shown(required)}; {operation.label} requires "
            f"{' or '.join(operation.scopes)}"
        )
    challenge = ex.header("www-authenticate") or ""
    if challenge_error(challenge) != "insufficient_scope":
        fail(
            f"403 for a missing scope without WWW-Authenticate: Bearer "
            f'error="insufficient_scope" (got {shown(challenge)}; RFC 6750 section 3.1)'
        )
