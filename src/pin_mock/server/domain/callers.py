"""Who is calling: the credentials a request carries, and what they are worth.

``identify`` turns one ``Authorization`` header value into a ``Caller`` (a
bearer token verified by the ``TokenService``, the outcome cached per token);
the authentication layer (``pipeline/authentication.py``) does it once per
request, and every later layer and handler reads the same ``Caller``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pin_mock.server.domain.auth import TokenService
from pin_mock.server.errors import ApiError, Forbidden, InternalError, Unauthorized

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
