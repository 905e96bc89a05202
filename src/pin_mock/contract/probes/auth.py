"""Auth probes: protected operations refuse bad tokens; the token endpoint speaks RFC 6749.

Schemathesis's ``ignored_auth`` check and its missing-``Authorization`` probes
do not run for ``oauth2`` schemes, so an implementation that ignores tokens
would pass it. Here every protected operation gets, with otherwise valid
input, no token, a garbage token, a forged unsigned JWT and a real token with
a damaged signature: each must be 401 with the envelope and a Bearer
challenge (those two are checked by the ambient rules on every answer).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of, example_kwargs
from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID
from pin_mock.contract.spec import Operation, Spec

CHECK = "pin_auth_enforced"
TOKEN_CHECK = "pin_token_errors"


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forged_token(client_id: str | None, scopes: Iterable[str]) -> str:
    """An unsigned (``alg: none``) JWT claiming ``scopes`` (all the spec has) for ``client_id``."""
    now = int(time.time())
    claims = {
        "sub": client_id or DEFAULT_CLIENT_ID,
        "client_id": client_id or DEFAULT_CLIENT_ID,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + 3600,
    }
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def damaged(token: str) -> str:
    """The token with its signature (or its middle) altered."""
    head, dot, signature = token.rpartition(".")
    if dot and len(signature) > 4:
        i = len(signature) // 2
        swapped = "A" if signature[i] != "A" else "B"
        return f"{head}.{signature[:i]}{swapped}{signature[i + 1 :]}"
    i = len(token) // 2
    return token[:i] + ("x" if token[i : i + 1] != "x" else "y") + token[i + 1 :]


def bad_credentials(ctx: ProbeContext) -> list[tuple[str, str | None]]:
    """(description, Authorization header) pairs that must all be refused."""
    variants: list[tuple[str, str | None]] = [
        ("no token", None),
        ("a garbage token", "Bearer not-a-real-token"),
        ("a forged unsigned JWT", f"Bearer {forged_token(ctx.client_id, ctx.spec.scopes)}"),
    ]
    if ctx.target.tokens is not None:
        variants.append(
            (
                "a real token with a damaged signature",
                f"Bearer {damaged(ctx.target.tokens.token())}",
            )
        )
    return variants


def auth_probe(op: Operation) -> Probe:
    """The auth-enforcement probe of one protected operation."""

    def run(ctx: ProbeContext) -> None:
        for description, header in bad_credentials(ctx):
            headers = {"Authorization": header} if header else {}
            ex = ctx.target.request(
                op.method.upper(), op.example_path(), template=op.path, token=None,
                headers=headers, **example_kwargs(op),
            )  # fmt: skip
            ctx.expect(
                ex.status == 401,
                CHECK,
                f"with {description}, {op.label} answered {ex.status} instead of 401",
                ex,
            )

    return Probe(
        f"auth enforced: {op.label}", (op.operation_id,), run, (CHECK,),
        needs_credentials=False, scoped=False,
    )  # fmt: skip


def token_errors(ctx: ProbeContext) -> None:
    """Wrong secret, unsupported grant, missing grant and unknown scope get their RFC 6749 codes."""
    op = ctx.spec.token_operation
    path = op.path if op else urlsplit(ctx.spec.token_url).path
    client = ctx.client_id or "pin-contract-probe"
    secret = ctx.client_secret or "not-the-secret"
    cases: list[tuple[str, dict, dict, Callable[[int], bool], str]] = [
        ("a wrong secret", {"grant_type": "client_credentials", "client_id": client, "client_secret": "wrong-" + secret}, {},
         lambda s: s in (400, 401), "invalid_client"),
        ("a wrong secret over HTTP Basic", {"grant_type": "client_credentials"},
         {"Authorization": "Basic " + base64.b64encode(f"{client}:wrong-{secret}".encode()).decode()},
         lambda s: s == 401, "invalid_client"),
    ]  # fmt: skip
    if ctx.client_id and ctx.client_secret:
        good = {"client_id": ctx.client_id, "client_secret": ctx.client_secret}
        cases += [
            ("grant_type=password", {**good, "grant_type": "password"}, {}, lambda s: s == 400, "unsupported_grant_type"),
            ("no grant_type", dict(good), {}, lambda s: s == 400, "invalid_request"),
            ("an unknown scope", {**good, "grant_type": "client_credentials", "scope": "no-such:scope"}, {},
             lambda s: s == 400, "invalid_scope"),
        ]  # fmt: skip
    for description, form, headers, status_ok, code in cases:
        ex = ctx.target.request("POST", path, template=path, token=None, data=form, headers=headers)
        error = body_of(ex).get("error")
        ctx.expect(
            status_ok(ex.status) and error == code,
            TOKEN_CHECK,
            f"a token request with {description} answered {ex.status} {error!r}; RFC 6749 expects {code}",
            ex,
        )


def auth_probes(spec: Spec, operations: list[Operation]) -> list[Probe]:
    """One auth probe per operation that requires the OAuth scheme, then the token endpoint's."""
    probes = [auth_probe(op) for op in operations if op.requires(spec.oauth2_scheme)]
    token = spec.token_operation
    probes.append(
        Probe(
            "token endpoint errors (RFC 6749)",
            (token.operation_id if token else "issueToken",),
            token_errors,
            (TOKEN_CHECK,),
            needs_credentials=False,
            scoped=False,
        )
    )
    return probes
