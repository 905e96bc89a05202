"""OAuth 2.0 client credentials: the sandbox clients, JWT access tokens, scopes.

Tokens are HS256 JWTs (RFC 9068 profile) signed with PyJWT; the key is
generated at start-up unless configured. Verified claims are cached per token
string, because both the rate-limit middleware and Connexion's security layer
ask about the same token on every request.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import yaml

from pin_mock.server.errors import ConfigError, Forbidden, OAuthError, Unauthorized

AUDIENCE = "pin-api"
_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Client:
    """A registered sandbox client."""

    client_id: str
    client_secret: str
    tier: str
    scopes: frozenset[str]
    description: str = ""


class ClientRegistry:
    """The sandbox clients, read from ``fixtures/clients.yaml`` (or ``--clients``)."""

    def __init__(self, clients: Iterable[Client]) -> None:
        self._clients = {c.client_id: c for c in clients}

    @classmethod
    def from_file(cls, path: Path, tiers: Iterable[str]) -> ClientRegistry:
        """Load and check the clients file; a bad file stops start-up."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read clients file {path}: {exc}") from exc
        known_tiers = set(tiers)
        clients = []
        for i, entry in enumerate((raw or {}).get("clients", [])):
            try:
                client = Client(
                    client_id=str(entry["client_id"]),
                    client_secret=str(entry["client_secret"]),
                    tier=str(entry["tier"]),
                    scopes=frozenset(entry["scopes"]),
                    description=str(entry.get("description", "")),
                )
            except (KeyError, TypeError) as exc:
                raise ConfigError(f"{path}: client #{i + 1} lacks {exc}") from exc
            if client.tier not in known_tiers:
                raise ConfigError(
                    f"{path}: client {client.client_id} has unknown tier {client.tier}"
                )
            clients.append(client)
        if not clients:
            raise ConfigError(f"{path}: no clients defined")
        return cls(clients)

    def __iter__(self):
        return iter(self._clients.values())

    def authenticate(self, client_id: str, client_secret: str) -> Client | None:
        """The client if the secret matches (constant-time compare), else None."""
        client = self._clients.get(client_id)
        if client is None:
            # same work as a wrong secret, so timing does not reveal which ids exist
            secrets.compare_digest(client_secret.encode(), b"x" * len(client_secret.encode()))
            return None
        if not secrets.compare_digest(client.client_secret.encode(), client_secret.encode()):
            return None
        return client


class TokenService:
    """Issues and verifies access tokens."""

    def __init__(self, *, ttl: int, issuer: str, key: str | None = None, clock=time.time) -> None:
        self.ttl = ttl
        self.issuer = issuer
        self._key = key or secrets.token_urlsafe(32)
        self._clock = clock
        self._cache: dict[str, dict[str, Any]] = {}

    def issue(self, client: Client, scopes: Iterable[str]) -> dict[str, Any]:
        """A token response body (RFC 6749 section 5.1) for ``client``."""
        now = int(self._clock())
        scope = " ".join(sorted(scopes))
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": client.client_id,
            "client_id": client.client_id,
            "scope": scope,
            "tier": client.tier,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._key, algorithm="HS256", headers={"typ": "at+jwt"})
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.ttl,
            "scope": scope,
        }

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or ``Unauthorized`` naming what is wrong."""
        claims = self._cache.get(token)
        if claims is not None:
            if claims["exp"] > self._clock():
                return claims
            del self._cache[token]
            raise Unauthorized("The access token has expired.")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],  # a fixed list: "none" and key confusion are refused
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "scope"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired.") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(
                "The access token is malformed or its signature is invalid."
            ) from exc
        # jwt checks exp against the real clock; honour an injected clock too.
        if claims["exp"] <= self._clock():
            raise Unauthorized("The access token has expired.")
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[token] = claims
        return claims

    def peek(self, token: str) -> dict[str, Any] | None:
        """Claims of a valid token, or None: for callers that only classify."""
        try:
            return self.verify(token)
        except Unauthorized:
            return None


def requested_scopes(client: Client, scope: str | None) -> frozenset[str]:
    """The scopes to grant: all of the client's, or a subset it asked for."""
    if scope is None or not scope.strip():
        return client.scopes
    asked = frozenset(scope.split())
    extra = asked - client.scopes
    if extra:
        raise OAuthError(
            "invalid_scope", f"Scope not allowed for this client: {' '.join(sorted(extra))}"
        )
    return asked


def authorize(tokens: TokenService, authorization: str, scopes: list[str] | None) -> dict[str, Any]:
    """The claims of a request's ``Authorization`` header that grants ``scopes``.

    ``scopes`` of ``None`` means the operation is public (``{}`` is returned).
    Raises ``Unauthorized`` (no, malformed or bad token) or ``Forbidden``.
    """
    if scopes is None:
        return {}
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer":
        raise Unauthorized("An access token is required.", error=None)
    token = token.strip()
    if not token:
        raise Unauthorized("The access token is missing, malformed or expired.")
    claims = tokens.verify(token)
    if not set(scopes) <= set(claims.get("scope", "").split()):
        raise Forbidden(scopes)
    return claims
