"""POST /oauth/token: the client-credentials grant (RFC 6749 sections 2.3.1, 4.4, 5)."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from pin_mock.server.domain.auth import ClientRegistry, TokenService, requested_scopes
from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.domain.token_throttle import TokenThrottle
from pin_mock.server.errors import OAuthError

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def issue_token(
    clients: ClientRegistry,
    tokens: TokenService,
    token_throttle: TokenThrottle,
    caller: Caller,
    clocks: ClientClocks,
    body: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], int, dict]:
    """Authenticate the client and issue a bearer token (throttled: ``domain/token_throttle.py``)."""
    throttle = token_throttle
    address = caller.peer or "unknown"
    try:
        return await _issue(clients, tokens, throttle, caller, body or {}, address, clocks)
    except OAuthError as error:
        # Failed client authentications count against the address; a malformed
        # request (400) guesses no secret: it has its own, generous budget
        # (token_guard.py), so a fuzzer's junk never locks a developer out.
        if error.error == "invalid_client":
            await throttle.failed(address)
        raise


async def _issue(
    clients: ClientRegistry,
    tokens: TokenService,
    throttle: TokenThrottle,
    caller: Caller,
    form: dict[str, Any],
    address: str,
    clocks: ClientClocks,
) -> tuple[dict[str, Any], int, dict]:
    try:
        client_id, client_secret, used_basic = _credentials(form, caller.authorization)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required.")
    except OAuthError:
        await throttle.check_address(address)  # a locked address hears 429 whatever it sent
        raise
    # Compared here, but a locked address, client or pair hears 429 whatever the outcome
    # (domain/token_throttle.py): the lock stops a right guess too.
    client = clients.authenticate(client_id, client_secret)
    if client is None:
        await throttle.check_address(address)
        await throttle.check_client(client_id, address)
        # Only registered ids have a lock: no secret opens an unknown one, and
        # counting arbitrary ids would let junk fill the counters.
        if client_id in clients:
            await throttle.failed_login(client_id, address)  # (issue_token counts the address)
        raise OAuthError(
            "invalid_client",
            "Client authentication failed.",
            status=401,
            basic_challenge=used_basic,
        )
    await throttle.admit(client.client_id, address)  # the locks, then the grant: one trip
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials.")
    scopes = requested_scopes(client, form.get("scope"))
    await clocks.enter(client.client_id)  # the token is dated (iat, exp) on the client's clock
    return tokens.issue(client, scopes), 200, NO_STORE


def _credentials(form: dict[str, Any], authorization: str | None) -> tuple[str, str, bool]:
    """Client id and secret from HTTP Basic or the form body, never both."""
    in_body = "client_id" in form or "client_secret" in form
    if authorization and authorization.lower().startswith("basic "):
        if in_body:
            raise OAuthError("invalid_request", "Use one client authentication method, not two.")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_request", "Malformed HTTP Basic credentials.") from exc
        user, sep, password = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_request", "Malformed HTTP Basic credentials.")
        # RFC 6749 appendix B: both parts are form-urlencoded before base64.
        return unquote_plus(user), unquote_plus(password), True
    if not form.get("client_id") or "client_secret" not in form:
        raise OAuthError(
            "invalid_client",
            "Client authentication failed: send client_id and client_secret, or HTTP Basic.",
            status=401,
        )
    return str(form["client_id"]), str(form["client_secret"]), False
