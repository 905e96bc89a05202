"""OAuth 2.0 client credentials: the sandbox clients, JWT access tokens, scopes.

Tokens are HS256 JWTs (RFC 9068 profile) signed with PyJWT; the header's
``kid`` names the signing key, kept by a ``KeyRing`` (``keys.py``: made at
start-up unless configured, shared through Redis on that engine, rotated with
a grace period). A token is verified once per request (``domain/callers.py``), and
only on paths that may need one. Only what can be a token is verified at all:
at most ``MAX_TOKEN_CHARS`` ASCII characters in three dot-separated parts;
anything else is refused at once and remembered nowhere. The outcome of a
verification, good or bad, is cached under a 16-byte digest of the token (so
an entry's size does not depend on what a client sent) in a bounded cache: a
client repeating a token, or a forged one, costs one signature check, not one
per request, and junk cannot grow the cache past ``_CACHE_MAX`` small entries.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import yaml

from pin_mock.server.domain.keys import KeyRing
from pin_mock.server.errors import QUOTE_CHARS, ConfigError, OAuthError, Unauthorized
from pin_mock.server.state.outages import unavailable

AUDIENCE = "pin-api"
_CACHE_MAX = 10_000
#: The longest bearer token verified; the sandbox's own are about 500 characters.
MAX_TOKEN_CHARS = 4_096
MALFORMED = "The access token is malformed or its signature is invalid."


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

    def __contains__(self, client_id: object) -> bool:
        return client_id in self._clients

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

    def __init__(
        self,
        *,
        ttl: int,
        issuer: str,
        key: str | None = None,
        clock=time.time,
        keys: KeyRing | None = None,
    ) -> None:
        self.ttl = ttl
        self.issuer = issuer
        # The engine's key ring (wiring.py), or one configured key that signs everything.
        self.keys = keys or KeyRing(grace=ttl, static=key, clock=clock)
        self.keys.current()  # made (or read from Redis) now, not on the first token request
        self._clock = clock
        self._cache: dict[bytes, dict[str, Any] | str] = {}

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
        kid, secret = self.keys.current()
        token = jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "at+jwt", "kid": kid})
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.ttl,
            "scope": scope,
        }

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or ``Unauthorized`` naming what is wrong (but ``expired``)."""
        if len(token) > MAX_TOKEN_CHARS or not token.isascii() or token.count(".") != 2:
            raise Unauthorized(MALFORMED)  # cannot be a JWS: not verified, not cached
        digest = hashlib.sha256(token.encode("ascii")).digest()[:16]  # SHA-NI: cheapest here
        cached = self._cache.get(digest)
        if cached is None:
            try:
                cached = self._decode(token)
            except Exception as exc:  # the key ring could not reach Redis: not cached
                problem = unavailable(exc)
                if problem is None:
                    raise
                raise problem from None
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = cached
        if isinstance(cached, str):
            raise Unauthorized(
                cached
            )  # a fresh exception: a re-raised one would grow its traceback
        return cached

    def expired(self, claims: dict[str, Any]) -> bool:
        """Whether verified ``claims`` have expired on the clock of the client served
        (``verify`` leaves that to the caller, who enters the token's client's clock)."""
        return bool(claims["exp"] <= self._clock())

    def _decode(self, token: str) -> dict[str, Any] | str:
        """The claims, or why the token is refused (the key ring may raise a Redis error)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            secret = self.keys.lookup(kid) if isinstance(kid, str) else None
            if secret is None:
                return MALFORMED
            return jwt.decode(
                token,
                secret,
                algorithms=["HS256"],  # a fixed list: "none" and key confusion are refused
                audience=AUDIENCE,
                issuer=self.issuer,
                options={
                    "require": ["exp", "iat", "sub", "scope"],
                    # Both are times on the client's clock, not the real one: ``expired``.
                    "verify_exp": False,
                    "verify_iat": False,
                },
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            return "The access token has expired."
        except jwt.PyJWTError:  # InvalidTokenError, and InvalidKeyError for an unusable key
            return MALFORMED


def requested_scopes(client: Client, scope: str | None) -> frozenset[str]:
    """The scopes to grant: all of the client's, or a subset it asked for."""
    if scope is None or not scope.strip():
        return client.scopes
    asked = frozenset(scope.split())
    extra = asked - client.scopes
    if extra:
        shown = " ".join(sorted(extra))
        if len(shown) > QUOTE_CHARS:  # quoted like every other error: cut, with its length
            shown = f"{shown[:QUOTE_CHARS]}... ({len(extra)} scopes)"
        raise OAuthError("invalid_scope", f"Scope not allowed for this client: {shown}")
    return asked
