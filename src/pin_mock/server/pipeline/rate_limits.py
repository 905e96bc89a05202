"""Per-client rate limits with PIN's headers, as an ASGI middleware.

One hit per ``/v1`` request, and per request to a ``/_sandbox`` operation (the
journal, the reset...: issue 20 counts them against the same budget), on the caller's budget (``domain/rate_limiter.py``:
per client, or per peer address without a valid token). The middleware sits
outside Connexion's exception layer so that every ``/v1`` response, error
answers included, gets the headers; the client is the one the authentication
layer found, so the limiter and the operation layer can never disagree about
who is calling. If the shared state is lost, the answer is ``503`` with
``Retry-After`` and nothing is counted.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.domain.rate_limiter import Decision, RateLimiter, refusal
from pin_mock.server.errors import render_raw
from pin_mock.server.pipeline.authentication import caller_of
from pin_mock.server.state.outages import unavailable

#: Every ``/v1`` answer carries these too: patient data must not be cached by a
#: browser or proxy, nor sniffed into another content type.
API_HEADERS = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]
#: What counts against a budget: PIN's API and the sandbox's own operations...
COUNTED = ("/v1/", "/_sandbox/")
#: ...but not the sandbox's documents and pages (no token, nothing to spend), nor its
#: clock, which counts on a budget of its own (``app.py``): a client whose budget is spent
#: must still be able to advance its clock past the window's end.
FREE = ("/_sandbox/openapi.json", "/_sandbox/inspector", "/_sandbox/clock")


class RateLimitMiddleware:
    """Counts ``/v1`` requests per client (or per address without a valid token).

    As the one layer that sees every ``/v1`` answer on its way out, it also adds
    ``API_HEADERS``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        prefix: tuple[str, ...] = COUNTED,
        free: tuple[str, ...] = FREE,
        namespace: str = "",
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.prefix = prefix
        self.free = free
        # Keys of another budget (``sandbox:``: the clock's controls, ``app.py``).
        self.namespace = namespace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if not path.startswith(self.prefix) or path.startswith(self.free):
            await self.app(scope, receive, send)
            return
        caller = caller_of(scope)
        if caller.client_id is not None:
            key, tier = f"{self.namespace}client:{caller.client_id}", caller.tier or "standard"
        else:
            key, tier = f"{self.namespace}addr:{caller.peer or 'unknown'}", "standard"
        try:
            pending = await self.limiter.defer(key, tier)
        except Exception as exc:
            await self._unavailable(exc, scope, send)
            return
        decision = pending.known()
        if decision is not None and not decision.allowed:
            await self._refuse(decision, scope, send)
            return
        # On Redis the count rides on the request's first state call (one round trip,
        # not two); a refused count raises there, before anything is written. What the
        # app answers is then replaced by the 429 (or the 503) once its count is known.
        replaced = False

        async def send_with_headers(message: Message) -> None:
            nonlocal decision, replaced
            if replaced:
                return  # the app's answer, replaced
            if message["type"] == "http.response.start":
                if decision is None:
                    try:
                        decision = await pending.result()
                    except Exception as exc:
                        replaced = True
                        await self._unavailable(exc, scope, send)
                        return
                if not decision.allowed:
                    replaced = True
                    await self._refuse(decision, scope, send)
                    return
                extra = [*decision.headers(), *API_HEADERS]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(decision: Decision, scope: Scope, send: Send) -> None:
        status, headers, body = render_raw(refusal(decision), scope["path"])
        headers += [*decision.headers(), *API_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _unavailable(exc: Exception, scope: Scope, send: Send) -> None:
        problem = unavailable(exc)  # Redis lost: 503, and nothing is counted
        if problem is None:
            raise exc
        status, headers, body = render_raw(problem, scope["path"])
        headers += API_HEADERS
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
