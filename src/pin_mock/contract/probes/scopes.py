"""Scopes and token claims: least privilege is enforced, and a token is what it says.

The kit mints narrower tokens from the run's own client (the client-credentials
grant's ``scope`` parameter) and sends each operation's documented request with
a token that lacks the operation's scope: every one must be 403 ``FORBIDDEN``
naming ``details.required_scope`` with ``error="insufficient_scope"`` (the
ambient ``pin_forbidden_scope`` judges the envelope). Operations the run's own
client may not call (a read-only client's writes) get the same treatment with
the run's token, so such a client gets a fair run. The token endpoint must grant
exactly the scopes asked for and refuse the ones the client lacks
(``invalid_scope``). A token's ``expires_in``, ``token_type`` and ``scope`` must
agree with the token itself where it is a JWT (its ``exp``/``iat``/``scope``).
An expired token cannot be made without waiting out its lifetime, so that case
is left to the auth probe's damaged and forged tokens.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pin_mock.contract.checks.rate_limits import server_time
from pin_mock.contract.exchange import Exchange, shown
from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of, example_kwargs
from pin_mock.contract.spec import Operation

SCOPE = "pin_scope_enforced"
TOKEN_SCOPE = "pin_token_scope"
CLAIMS = "pin_token_claims"
#: Seconds of disagreement allowed between ``expires_in`` and the JWT's own lifetime.
LIFETIME_SLACK = 5


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The (unverified) claims of a JWT, or ``None`` when the token is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(raw)
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def granted_scopes(ex: Exchange) -> frozenset[str] | None:
    """The scopes a token answer grants: its ``scope``, else its JWT's ``scope`` claim."""
    body = body_of(ex)
    scope = body.get("scope")
    if scope is None:
        claims = jwt_claims(str(body.get("access_token", ""))) or {}
        scope = claims.get("scope")
    return frozenset(scope.split()) if isinstance(scope, str) else None


def _protected(ctx: ProbeContext) -> list[Operation]:
    return [op for op in ctx.operations if op.requires(ctx.spec.oauth2_scheme) and op.scopes]


def _expect_forbidden(ctx: ProbeContext, op: Operation, token: str, whose: str) -> None:
    ex = ctx.call(op.operation_id, token=f"Bearer {token}", **example_kwargs(op, ctx.safe_url))
    code = (body_of(ex).get("error") or {}) if isinstance(body_of(ex).get("error"), dict) else {}
    ctx.expect(
        ex.status == 403 and code.get("code") == "FORBIDDEN",
        SCOPE,
        f"{op.label} with {whose} (without {' or '.join(op.scopes)}) answered {ex.status} "
        f"{shown(code.get('code'))} instead of 403 FORBIDDEN",
        ex,
    )


def _halves(ctx: ProbeContext, granted: frozenset[str]) -> list[frozenset[str]]:
    """Two disjoint halves of the granted scopes: what safe (GET) operations need, and the rest."""
    reads = frozenset(s for op in _protected(ctx) if op.method == "get" for s in op.scopes)
    first, second = granted & reads, granted - reads
    if not first or not second:
        ordered = sorted(granted)
        first, second = frozenset(ordered[::2]), frozenset(ordered[1::2])
    return [half for half in (first, second) if half]


def scope_enforcement(ctx: ProbeContext) -> None:
    own = ctx.target.tokens.token() if ctx.target.tokens is not None else ""
    granted = ctx.granted if ctx.granted is not None else frozenset(ctx.spec.scopes)
    protected = _protected(ctx)
    for op in protected:  # what the run's own client may not do
        if not granted & set(op.scopes):
            _expect_forbidden(
                ctx, op, own, f"the run's token (scopes: {' '.join(sorted(granted))})"
            )
    for asked in _halves(ctx, granted):
        ex = ctx.grant(" ".join(sorted(asked)))
        if not ctx.expect(ex.status == 200, TOKEN_SCOPE,
                          f"asking for scope {shown(' '.join(sorted(asked)))} (all the client's) answered {ex.status}", ex):  # fmt: skip
            continue
        got = granted_scopes(ex)
        ctx.expect(
            got == asked,
            TOKEN_SCOPE,
            f"asked for scopes {sorted(asked)}, granted {sorted(got) if got is not None else None}",
            ex,
        )
        token = str(body_of(ex).get("access_token", ""))
        within = [op for op in protected if set(op.scopes) <= asked]
        for op in protected:
            if granted & set(op.scopes) and not asked & set(op.scopes):
                _expect_forbidden(ctx, op, token, f"a token for {' '.join(sorted(asked))}")
        plain = next((op for op in within if op.method == "get" and "{" not in op.path), None)
        if plain is not None:
            ok = ctx.call(plain.operation_id, token=f"Bearer {token}")
            ctx.expect(ok.status == 200, SCOPE,
                       f"{plain.label} with a token for {' '.join(sorted(asked))} answered {ok.status}", ok)  # fmt: skip
    for scope in sorted(set(ctx.spec.scopes) - granted)[:2]:
        ex = ctx.grant(scope)
        error = body_of(ex).get("error")
        ctx.expect(
            ex.status == 400 and error == "invalid_scope",
            TOKEN_SCOPE,
            f"asking for {shown(scope)}, which client {ctx.client_id} lacks, answered {ex.status} "
            f"{shown(error)}; RFC 6749 section 5.2 expects 400 invalid_scope",
            ex,
        )


def token_claims(ctx: ProbeContext) -> None:
    ex = ctx.grant(None)
    ctx.require(ex.status == 200, CLAIMS, f"a token request answered {ex.status}", ex)
    body = body_of(ex)
    token_type = body.get("token_type")
    ctx.expect(
        isinstance(token_type, str) and token_type.lower() == "bearer",
        CLAIMS,
        f"token_type is {shown(token_type)}; RFC 6750 tokens are Bearer",
        ex,
    )
    lifetime = body.get("expires_in")
    ctx.require(
        isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime > 0,
        CLAIMS,
        f"expires_in is {shown(lifetime)}, not a positive integer",
        ex,
    )
    scope = body.get("scope")
    unknown = sorted(set(str(scope).split()) - set(ctx.spec.scopes))
    ctx.expect(
        isinstance(scope, str) and not unknown,
        CLAIMS,
        f"scope {shown(scope)} is not a space-separated list of the spec's scopes",
        ex,
    )
    claims = jwt_claims(str(body.get("access_token", "")))
    if claims is None:
        return  # an opaque token: its lifetime cannot be read without waiting it out
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int) and isinstance(iat, int):
        ctx.expect(abs((exp - iat) - lifetime) <= LIFETIME_SLACK, CLAIMS,
                   f"expires_in is {lifetime} s but the token lives {exp - iat} s (exp - iat)", ex)  # fmt: skip
    elif isinstance(exp, int):
        left = exp - server_time(ex)
        ctx.expect(abs(left - lifetime) <= 60, CLAIMS,
                   f"expires_in is {lifetime} s but the token's exp is {left:.0f} s away", ex)  # fmt: skip
    if isinstance(claims.get("scope"), str) and isinstance(scope, str):
        ctx.expect(set(claims["scope"].split()) == set(scope.split()), CLAIMS,
                   f"the token's scope claim {shown(claims['scope'])} differs from the answer's {shown(scope)}", ex)  # fmt: skip


def scope_probes(token_operation: str) -> list[Probe]:
    return [
        Probe("token claims agree with expires_in, token_type and scope", (token_operation,),
              token_claims, (CLAIMS,), scoped=False),
        Probe("scopes enforced: narrower tokens get 403 outside them", (token_operation,),
              scope_enforcement, (SCOPE, TOKEN_SCOPE), scoped=False),
    ]  # fmt: skip
