"""The docs page at /docs (``swagger_ui``): our template, Connexion's Swagger UI files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from harness import Sandbox


def init_oauth(page: str) -> dict:
    match = re.search(r"ui\.initOAuth\((\{.*?\})\);", page, re.S)
    assert match, "the page sets up Authorize"
    return json.loads(match.group(1))


def test_docs_page_is_the_sandboxs(sandbox: Sandbox) -> None:
    response = sandbox.http.get("/docs/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>PIN API sandbox</title>" in page
    assert '"/_sandbox/openapi.json"' in page  # the sandbox's view: PIN's operations and its own
    assert "validatorUrl: null" in page  # never calls the public validator
    assert init_oauth(page) == {
        "clientId": "sandbox-standard",
        "clientSecret": "sandbox-standard-secret",  # public: fixtures/clients.yaml
        "appName": "PIN API sandbox",
    }


def test_every_file_the_page_loads_is_served(sandbox: Sandbox) -> None:
    page = sandbox.http.get("/docs/index.html").text
    assets = re.findall(r'(?:src|href)="(/docs/[^"]+)"', page)
    assert len(assets) >= 3
    for asset in assets:
        assert sandbox.http.get(asset).status_code == 200, asset


def test_docs_redirects_to_the_page(sandbox: Sandbox) -> None:
    response = sandbox.http.get("/docs", follow_redirects=False)
    assert response.status_code in (301, 302, 307, 308)
    assert response.headers["location"].endswith("/docs/")


def test_head_has_no_body(sandbox: Sandbox) -> None:
    response = sandbox.http.head("/docs/")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_a_private_clients_file_keeps_its_secret(
    sandbox_factory: Callable[..., Sandbox], tmp_path
) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text(
        "clients:\n"
        "  - {client_id: team-app, client_secret: not-for-the-page, tier: standard,\n"
        "     scopes: [patients:read]}\n"
    )
    sandbox = sandbox_factory(clients=clients)
    page = sandbox.http.get("/docs/").text
    assert init_oauth(page) == {"clientId": "team-app", "appName": "PIN API sandbox"}
    assert "not-for-the-page" not in page
