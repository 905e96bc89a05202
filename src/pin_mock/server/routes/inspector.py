"""``/_sandbox/inspector``: a live page of the signed-in client's request journal.

One self-contained page (``inspector.html``: no script or style from anywhere
else). It signs in like Swagger UI's *Authorize*: a client id and secret (a
token from ``POST /oauth/token``) or an access token, kept in the page's
memory, never in its address or in storage. It lists the journal (``GET
/_sandbox/requests``) and then reads its stream (``/_sandbox/requests/stream``),
showing each exchange as it happens; every value is shown as text, never as
markup, so a hostile body cannot script the page. The page itself needs no
token: everything it shows comes through the client's own token.
"""

from __future__ import annotations

import html
import secrets
from functools import lru_cache
from importlib.resources import files
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

PATH = "/_sandbox/inspector"


@lru_cache(maxsize=1)
def _template() -> str:
    return files(__package__).joinpath("inspector.html").read_text(encoding="utf-8")


def add_inspector_route(app: Any, client_id: str, client_secret: str | None) -> None:
    """Serve the page, its sign-in filled in as ``/docs`` fills Authorize in."""
    page = (
        _template()
        .replace("__CLIENT_ID__", html.escape(client_id, quote=True))
        .replace("__CLIENT_SECRET__", html.escape(client_secret or "", quote=True))
    )

    async def inspector(_request: Request) -> HTMLResponse:
        # A fresh nonce per answer: only the page's own script and style run.
        nonce = secrets.token_urlsafe(16)
        policy = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        )
        headers = {
            "Content-Security-Policy": policy,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        return HTMLResponse(page.replace("__NONCE__", nonce), headers=headers)

    app.add_url_rule(PATH, "inspector", inspector, methods=["GET"])
