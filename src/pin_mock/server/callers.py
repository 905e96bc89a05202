"""Who is calling: the ``Authorization`` header, parsed and verified once per request.

The rate limiter (which client's budget), the ``Prefer`` layer and the
operation layer (which scopes) all need the caller. ``CallerMiddleware`` works
it out once, near the outside of the stack, and every later layer reads the
same ``Caller`` with ``caller_of(scope)``. A request with several
``Authorization`` headers is judged by the last one everywhere, so no layer
can see a different caller from another.

A bearer token is verified only on paths that may need one (``/v1/`` and
``/_sandbox/``): on the docs, the spec files or an unknown path nothing reads
it, so nothing is spent on it and nothing is cached. The layer sits outside
the error handlers, so it never lets an exception out: a bug while verifying
becomes a 500 envelope for the operation that needed the token (and a
traceback in the log), never uvicorn's plain-text 500 on every path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from pin_mock.server.auth import TokenService
from pin_mock.server.errors import ApiError, Forbidden, InternalError, Unauthorized

#: Where the caller is kept in the ASGI scope's ``state`` (shared by the
#: shallow copies Connexion's routing makes of the scope).
STATE_KEY = "pin_mock.caller"
#: Paths whose operations may need a bearer token; elsewhere none is verified.
TOKEN_PATHS = ("/v1/", "/_sandbox/")

log = logging.getLogger("pin_mock.errors")


@dataclass(frozen=True)
class Caller:
    """The credentials a request carries and what they are worth."""

    #: The raw ``Authorization`` header ("" when absent): the token endpoint reads Basic from it.
    authorization: str = ""
    #: The verified claims of a bearer token, or None.
    claims: dict[str, Any] | None = None
    #: Why a bearer token was refused (a missing one is not a problem until an operation needs
    #: it), ``ServiceUnavailable`` when its key could not be read from the shared state, or
    #: ``InternalError`` for a bug while verifying it.
    problem: ApiError | None = None
    #: The peer address (``scope["client"]`` host, "" when unknown): the token endpoint
    #: throttles failed client authentications per address.
    peer: str = ""

    @property
    def client_id(self) -> str | None:
        """The authenticated client (the token's ``sub``), or None."""
        return self.claims["sub"] if self.claims else None

    @property
    def tier(self) -> str | None:
        """The authenticated client's rate-limit tier, or None."""
        return self.claims.get("tier", "standard") if self.claims else None

    def require(self, scopes: list[str] | None) -> dict[str, Any]:
        """The claims, if they grant ``scopes``; ``None`` means a public operation.

        Raises ``Unauthorized`` (no, malformed or bad token) or ``Forbidden``.
        """
        if scopes is None:
            return {}
        if self.claims is None:
            raise self.problem or Unauthorized("An access token is required.", error=None)
        if not set(scopes) <= set(self.claims.get("scope", "").split()):
            raise Forbidden(scopes)
        return self.claims


ANONYMOUS = Caller()


def identify(authorization: str, tokens: TokenService, peer: str = "") -> Caller:
    """The caller behind one ``Authorization`` header value, seen from ``peer``."""
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer":
        # No credentials for the API (none, or Basic for the token endpoint).
        return Caller(authorization, peer=peer) if authorization or peer else ANONYMOUS
    token = token.strip()
    if not token:
        problem = Unauthorized("The access token is missing, malformed or expired.")
        return Caller(authorization, problem=problem, peer=peer)
    try:
        return Caller(authorization, claims=tokens.verify(token), peer=peer)
    except ApiError as problem:  # Unauthorized, or ServiceUnavailable (Redis lost)
        return Caller(authorization, problem=problem, peer=peer)
    except Exception:  # a bug: the operation that needs the token answers a 500 envelope
        log.exception("could not verify a bearer token")
        problem = InternalError("The access token could not be checked.")
        return Caller(authorization, problem=problem, peer=peer)


def caller_of(scope: Scope) -> Caller:
    """The caller ``CallerMiddleware`` found for this request (anonymous if it did not run)."""
    return scope.get("state", {}).get(STATE_KEY, ANONYMOUS)


class CallerMiddleware:
    """Parse and verify the ``Authorization`` header once; keep the result in the scope."""

    def __init__(self, app: ASGIApp, *, tokens: TokenService) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            authorization = ""
            for name, value in scope["headers"]:
                if name == b"authorization":
                    authorization = value.decode("latin-1")  # the last one counts
            client = scope.get("client")
            peer = str(client[0]) if client else ""
            if scope["path"].startswith(TOKEN_PATHS):
                caller = identify(authorization, self.tokens, peer)
            else:  # the token endpoint reads Basic from it; nothing else reads a token
                caller = Caller(authorization, peer=peer)
            scope.setdefault("state", {})[STATE_KEY] = caller
        await self.app(scope, receive, send)
