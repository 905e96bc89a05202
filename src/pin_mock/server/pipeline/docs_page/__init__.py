"""The docs page at ``/docs``: Swagger UI, titled and set up for the sandbox.

Connexion renders its own ``index.j2`` from the directory it also serves
Swagger UI's files from, so a page of ours in its place would lose the
scripts. This layer answers only the page (``/docs/`` and
``/docs/index.html``) from ``index.j2`` beside this file and leaves the rest
(the scripts and styles of ``swagger_ui_bundle``, the ``/docs`` redirect) to
Connexion's Swagger UI layer below it.

What the page does differently from Connexion's (see ``index.j2``): the title
"PIN API sandbox"; no top bar and no call to the public validator; Authorize
starts with a sandbox client filled in (see ``oauth_defaults``); the spec is
read from ``/_sandbox/openapi.json`` (the sandbox's view: PIN's contract plus the
sandbox's own operations and notes) under the request's root path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

TITLE = "PIN API sandbox"
#: Where Connexion serves Swagger UI's files (``SwaggerUIOptions.swagger_ui_path``).
DOCS_PATH = "/docs"
#: The sandbox's view of the contract (its /_sandbox operations included): spec_files.VIEW_PATH.
SPEC_PATH = "/_sandbox/openapi.json"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def oauth_defaults(client_id: str, client_secret: str | None) -> dict[str, Any]:
    """``ui.initOAuth``'s arguments: the client Authorize starts with.

    The secret is filled in only when it is already public (the bundled
    ``fixtures/clients.yaml``); a sandbox run with its own ``--clients`` file
    shows the client id and leaves the secret to the person.
    """
    options: dict[str, Any] = {"clientId": client_id, "appName": TITLE}
    if client_secret is not None:
        options["clientSecret"] = client_secret
    return options


class DocsPageMiddleware:
    """Answer ``GET /docs/`` with the sandbox's Swagger UI page; pass everything else on."""

    def __init__(self, app: ASGIApp, *, oauth: dict[str, Any]) -> None:
        self.app = app
        # Connexion's Swagger UI layer (the next one) answers only under /docs (the
        # spec is served by the sandbox's own routes: ``serve_spec=False``), yet its
        # router tries each of its routes, and copies the scope, for every request:
        # any other path goes straight to the layer after it.
        self.past_docs = app.app if isinstance(app, SwaggerUIMiddleware) else app
        self.oauth = oauth
        self.template = _TEMPLATES.get_template("index.j2")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(DOCS_PATH):
            await self.past_docs(scope, receive, send)
            return
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope["path"] not in (f"{DOCS_PATH}/", f"{DOCS_PATH}/index.html")
        ):
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "").rstrip("/")
        page = self.template.render(
            title=TITLE,
            assets=root + DOCS_PATH,
            spec_url=root + SPEC_PATH,
            oauth=self.oauth,
        ).encode("utf-8")
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(page)).encode()),
            (b"cache-control", b"no-cache"),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else page
        await send({"type": "http.response.body", "body": body})
