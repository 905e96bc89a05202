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

from pin_mock.contract.exchange import shown
from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of, example_kwargs
from pin_mock.contract.spec import Operation, Spec

CHECK = "pin_auth_enforced"
TOKEN_CHECK = "pin_token_errors"
METHODS = "pin_token_auth_methods"
#: The subject of a forged token when the run has no client of its own (plain ``st run``).
NOBODY = "pin-contract-probe"


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forged_token(client_id: str | None, scopes: Iterable[str]) -> str:
    """An unsigned (``alg: none``) JWT claiming ``scopes`` (all the spec has) for ``client_id``,
    the run's configured client: a target that trusts unsigned tokens would serve it."""
    now = int(time.time())
    claims = {
        "sub": client_id or NOBODY,
        "client_id": client_id or NOBODY,
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
            ex = ctx.call(op.operation_id, token=None, headers=headers,
                          **example_kwargs(op, ctx.safe_url))  # fmt: skip
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
    client = ctx.client_id or NOBODY
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
            f"a token request with {description} answered {ex.status} with error {shown(error)}; "
            f"RFC 6749 expects {code}",
            ex,
        )


def _form_allows_secret(spec: Spec) -> bool:
    """Whether the token request body documents ``client_secret`` (client_secret_post)."""
    op = spec.token_operation
    schema = (op.body_schema or {}) if op else {}
    return "client_secret" in (schema.get("properties") or {})


def auth_methods(ctx: ProbeContext) -> None:
    """Both client authentication methods get a token: HTTP Basic (RFC 6749 section 2.3.1
    requires it) and, where the spec's token request documents it, the form's client_secret."""
    if not (ctx.client_id and ctx.client_secret):
        return
    path = urlsplit(ctx.spec.token_url).path
    basic = base64.b64encode(f"{ctx.client_id}:{ctx.client_secret}".encode()).decode()
    methods = [
        (
            "HTTP Basic (client_secret_basic)",
            {"grant_type": "client_credentials"},
            {"Authorization": f"Basic {basic}"},
        )
    ]
    if _form_allows_secret(ctx.spec):
        form = {
            "grant_type": "client_credentials",
            "client_id": ctx.client_id,
            "client_secret": ctx.client_secret,
        }
        methods.append(("the form body (client_secret_post)", form, {}))
    for description, form, headers in methods:
        ex = ctx.target.request("POST", path, template=path, token=None, data=form, headers=headers)
        token = body_of(ex).get("access_token")
        ctx.expect(ex.status == 200 and isinstance(token, str) and bool(token), METHODS,
                   f"the client's own credentials sent with {description} answered {ex.status}; "
                   "the contract offers both methods", ex)  # fmt: skip


def auth_probes(spec: Spec, operations: list[Operation]) -> list[Probe]:
    """One auth probe per operation that requires the OAuth scheme, then the token endpoint's."""
    probes = [auth_probe(op) for op in operations if op.requires(spec.oauth2_scheme)]
    token = spec.token_operation
    probes.append(
        Probe("token endpoint: both client authentication methods", (token.operation_id if token else "issueToken",),
              auth_methods, (METHODS,), needs_credentials=False, scoped=False)
    )  # fmt: skip
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
