"""Malformed token requests, counted per address in their own, generous budget.

A malformed ``POST /oauth/token`` (a form too large or too long, an unknown
or repeated field, a missing ``grant_type``, bad Basic credentials, the wrong
media type) guesses no secret, so it is not a failed authentication
(``token_throttle.py``): counting it there would let a fuzzing run lock a
developer out of their own sandbox. Left uncounted, though, a peer could send
junk as fast as it likes. This layer gives malformed requests a budget of
their own per address (``token_malformed_per_address`` per window, 600 by
default): past it the address is answered ``429 temporarily_unavailable``
with ``Retry-After`` before its request is read.

It sits just inside the error handlers, outside the request limits, so it sees
every refusal of a token request, whichever layer raised it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from pin_mock.server.domain.token_throttle import TokenThrottle
from pin_mock.server.errors import TOKEN_PATH, ApiError, OAuthError
from pin_mock.server.pipeline.authentication import caller_of

#: RFC 6749 error codes that say the request itself was malformed.
MALFORMED_OAUTH = frozenset({"invalid_request", "unsupported_grant_type"})


def is_malformed(error: ApiError | OAuthError) -> bool:
    """Whether ``error`` refused a token request for its form, not its credentials."""
    if isinstance(error, OAuthError):
        return error.error in MALFORMED_OAUTH
    return 400 <= error.status < 500 and error.status not in (401, 403, 429)


class TokenGuardMiddleware:
    """Count malformed token requests per address; refuse an address past its budget."""

    def __init__(self, app: ASGIApp, *, throttle: TokenThrottle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") or ""
        if not path.startswith(TOKEN_PATH) or path.rstrip("/") != TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        address = caller_of(scope).peer or "unknown"
        self.throttle.check_malformed(address)  # this process's memory: no round trip
        try:
            await self.app(scope, receive, send)
        except (ApiError, OAuthError) as error:
            if is_malformed(error):
                await self.throttle.malformed(address)
            raise
