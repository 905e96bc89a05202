"""Who is calling: the ``Authorization`` header, parsed and verified once per request.

The rate limiter (which client's budget), the ``Prefer`` layer and the
operation layer (which scopes) all need the caller. ``AuthenticationMiddleware`` works
it out once, near the outside of the stack, and every later layer reads the
same ``Caller`` with ``caller_of(scope)``. A request with several
``Authorization`` headers is judged by the last one everywhere, so no layer
can see a different caller from another.

A bearer token is verified only on paths that may need one (``/v1/`` and
``/_sandbox/``): on the docs, the spec files or an unknown path nothing reads
it, so nothing is spent on it and nothing is cached. The layer sits outside
the error handlers, so it never lets an exception out (``identify`` turns a bug
while verifying into a 500 envelope for the operation that needed the token),
never uvicorn's plain-text 500 on every path.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from pin_mock.server.domain.auth import TokenService
from pin_mock.server.domain.callers import ANONYMOUS, Caller, identify
from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.errors import InternalError, Unauthorized
from pin_mock.server.state.outages import unavailable

log = logging.getLogger("pin_mock.errors")

#: Where the caller is kept in the ASGI scope's ``state`` (shared by the
#: shallow copies Connexion's routing makes of the scope).
STATE_KEY = "pin_mock.caller"
#: Paths whose operations may need a bearer token; elsewhere none is verified.
TOKEN_PATHS = ("/v1/", "/_sandbox/")


def caller_of(scope: Scope) -> Caller:
    """The caller ``AuthenticationMiddleware`` found for this request (anonymous if it did not run)."""
    return scope.get("state", {}).get(STATE_KEY, ANONYMOUS)


class AuthenticationMiddleware:
    """Parse and verify the ``Authorization`` header once; keep the result in the scope."""

    def __init__(self, app: ASGIApp, *, tokens: TokenService, clocks: ClientClocks) -> None:
        self.app = app
        self.tokens = tokens
        self.clocks = clocks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            authorization = ""
            for name, value in scope["headers"]:
                if name == b"authorization":
                    authorization = value.decode("latin-1")  # the last one counts
            client = scope.get("client")
            peer = str(client[0]) if client else ""
            self.clocks.enter_real()  # until a token names its client
            if scope["path"].startswith(TOKEN_PATHS):
                caller = await self._on_its_clock(identify(authorization, self.tokens, peer))
            else:  # the token endpoint reads Basic from it; nothing else reads a token
                caller = Caller(authorization, peer=peer)
            scope.setdefault("state", {})[STATE_KEY] = caller
        await self.app(scope, receive, send)

    async def _on_its_clock(self, caller: Caller) -> Caller:
        """Enter the caller's clock for the whole request; its token expires on that clock."""
        if caller.client_id is None:
            return caller
        assert caller.claims is not None
        try:
            await self.clocks.enter(caller.client_id)
        except Exception as exc:
            problem = unavailable(exc)  # Redis lost: 503 for the operation that needs it
            if problem is None:
                log.exception("could not read the clock of %s", caller.client_id)
                problem = InternalError("The access token could not be checked.")
            return Caller(caller.authorization, problem=problem, peer=caller.peer)
        if self.tokens.expired(caller.claims):
            problem = Unauthorized("The access token has expired.")
            return Caller(caller.authorization, problem=problem, peer=caller.peer)
        return caller
