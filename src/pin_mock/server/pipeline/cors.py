"""Callers that are web pages: CORS, and no password dialog for a script's failed login.

**CORS.** A developer's web app (say ``http://localhost:5173``) may call the
sandbox from the browser only if the sandbox answers its preflight and marks
its answers readable by that origin. Starlette's ``CORSMiddleware`` does the
work; ``--cors-origins`` says for which origins (see ``cors_options``): by
default ``local``, any port of ``localhost``, ``127.0.0.1`` and ``[::1]`` over
http or https, which is what a local web app and the local sandbox are. A
preflight is answered here, before the rate limiter, so it spends no budget;
one from an origin that is not allowed gets no CORS answer at all and goes on
to the router (405 with ``Allow``, like any other OPTIONS), which is as good a
"no" to the browser and keeps every error in PIN's envelope.

**The Basic challenge.** RFC 6749 section 5.2 has the token endpoint answer a
client that authenticated with HTTP Basic and failed with
``WWW-Authenticate: Basic``. To a script in a browser (Swagger UI's Authorize,
a web app's ``fetch``) that header makes the browser raise its own login
dialog, and the page never sees the error (headless, the request just hangs).
So a 401's ``Basic`` challenge is dropped for a request a script made: one
whose ``Sec-Fetch-Mode`` is not ``navigate`` (browsers set it, and scripts
cannot) or that says ``X-Requested-With: XMLHttpRequest`` (Swagger UI and many
libraries do). Other clients (curl, httpx, generated clients) send neither and
still get the challenge; ``Bearer`` challenges, which no browser acts on, stay.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: ``--cors-origins local``: any port of the loopback names, over http or https.
LOCAL_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"
#: What a page may read of an answer besides the CORS-safelisted headers.
EXPOSED_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-Request-Id",
    "Location",
    "Content-Disposition",
    "WWW-Authenticate",
)
#: How long a browser may reuse a preflight's answer, s.
PREFLIGHT_MAX_AGE = 600


def cors_options(origins: str) -> dict[str, Any] | None:
    """``CORSMiddleware``'s arguments for ``--cors-origins``, or None for no CORS.

    ``origins`` is a comma-separated list of ``*`` (any origin), ``local`` (see
    ``LOCAL_ORIGINS``) and exact origins (``https://app.example``); ``none``
    or an empty value turns CORS off. ``Settings`` has checked the syntax.
    """
    entries = [e.strip() for e in origins.split(",") if e.strip()]
    if not entries or entries == ["none"]:
        return None
    exact = [e.rstrip("/") for e in entries if e not in ("*", "local")]
    return {
        "allow_origins": ["*"] if "*" in entries else exact,
        "allow_origin_regex": LOCAL_ORIGINS if "local" in entries else None,
        # Any method and any requested header: the sandbox's own layers judge the
        # request that follows, with PIN's errors, rather than a bare preflight 400.
        "allow_methods": ["*"],
        "allow_headers": ["*"],
        # Tokens travel in Authorization, never in cookies: no credentials mode.
        "allow_credentials": False,
        # A public web page calling a sandbox on loopback (Chrome's Private Network Access).
        "allow_private_network": True,
        "expose_headers": EXPOSED_HEADERS,
        "max_age": PREFLIGHT_MAX_AGE,
    }


class CorsMiddleware:
    """CORS for the allowed origins; no ``Basic`` challenge in a 401 to a script."""

    def __init__(self, app: ASGIApp, *, cors_origins: str) -> None:
        self.app = app
        options = cors_options(cors_origins)
        self.cors = CORSMiddleware(app, **options) if options is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin: str | None = None
        script = preflight = False
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"sec-fetch-mode":
                script = script or value.lower() != b"navigate"
            elif name == b"x-requested-with":
                script = script or value.lower() == b"xmlhttprequest"
            elif name == b"access-control-request-method":
                preflight = True
        if script:
            send = _without_basic_challenge(send)
        cors = self.cors
        if cors is None:
            await self.app(scope, receive, send)
        elif origin is None:
            # No page is asking (curl, SDKs, the benchmarks): only ``Vary: Origin``, so
            # no cache hands this answer without CORS headers to a page that needs them.
            # What Starlette's layer would do here, without its per-request objects.
            await self.app(scope, receive, _vary_origin(send))
        elif preflight and not cors.is_allowed_origin(origin):
            await self.app(scope, receive, send)  # no CORS answer: the router's 405
        else:
            await cors(scope, receive, send)


def _vary_origin(send: Send) -> Send:
    async def send_varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            found = [i for i, (name, _value) in enumerate(headers) if name == b"vary"]
            vary = (b"vary", b", ".join([*(headers[i][1] for i in found), b"Origin"]))
            for i in reversed(found[1:]):
                del headers[i]
            if found:
                headers[found[0]] = vary
            else:
                headers.append(vary)
            message["headers"] = headers
        await send(message)

    return send_varying


def _without_basic_challenge(send: Send) -> Send:
    async def send_without(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 401:
            message["headers"] = [
                (name, value)
                for name, value in message.get("headers", [])
                if not (name.lower() == b"www-authenticate" and _is_basic(value))
            ]
        await send(message)

    return send_without


def _is_basic(challenge: bytes) -> bool:
    return re.match(rb"\s*basic(\s|$)", challenge, re.IGNORECASE) is not None
