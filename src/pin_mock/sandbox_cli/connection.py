"""How a sandbox verb (and ``pin_mock.testing``) reaches a running sandbox: httpx with a token.

``connect`` gives an ``httpx.Client`` on the sandbox's base URL whose requests
carry a bearer token: a given one (``--token``, ``$PIN_TOKEN``), or one asked
of ``/oauth/token`` with client credentials (default: the sandbox's
enterprise client, every scope) and asked again shortly before it expires or
once after a 401 (a long test session outlives ``--token-ttl``).
``problem`` turns an error answer into one line for the terminal. (The verbs'
shared click options are in ``verb_options.py``, which imports no httpx: the
``pin-mock`` command imports the verbs at start-up, and they import this module
only when they run.)
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Generator
from typing import Any
from urllib.parse import quote_plus

import httpx

from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from pin_mock.sandbox_cli.verb_options import SandboxUnreachable

#: A token is asked again this long before it expires.
REFRESH_MARGIN = 30.0


class ClientCredentials(httpx.Auth):
    """A bearer token from ``/oauth/token`` (client_secret_basic), renewed when needed."""

    requires_response_body = True

    def __init__(self, client_id: str, client_secret: str, scope: str | None = None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            fresh = self._token is not None and time.monotonic() < self._expires
        if not fresh:
            yield from self._renew(request)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:  # revoked or expired early (a clock moved): once more
            yield from self._renew(request)
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _renew(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        # client_secret_basic: each part form-urlencoded, then base64 (RFC 6749 2.3.1).
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
        basic = "Basic " + base64.b64encode(pair.encode()).decode()
        token_request = httpx.Request(
            "POST",
            request.url.copy_with(path="/oauth/token", query=None),
            data=form,
            headers={"Authorization": basic},
        )
        response = yield token_request
        if response.status_code != 200:
            raise SandboxUnreachable(
                f"no token for {self.client_id} from {request.url.host}: {problem(response)}"
            )
        body = response.json()
        with self._lock:
            self._token = body["access_token"]
            self._expires = time.monotonic() + max(1.0, body["expires_in"] - REFRESH_MARGIN)


def connect(
    base_url: str,
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    token: str | None = None,
    scope: str | None = None,
    timeout: float = 10.0,
) -> httpx.Client:
    """An httpx client of the sandbox at ``base_url``, every request with a token."""
    auth: httpx.Auth = (
        ClientCredentials(client_id, client_secret, scope) if token is None else _Bearer(token)
    )
    return httpx.Client(base_url=base_url.rstrip("/"), auth=auth, timeout=timeout)


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def problem(response: httpx.Response) -> str:
    """An error answer in one line: PIN's envelope (or OAuth's) if it is one."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"HTTP {response.status_code} {error.get('code')}: {error.get('message')}"
    if isinstance(body, dict) and "error_description" in body:
        return f"HTTP {response.status_code} {body.get('error')}: {body['error_description']}"
    return f"HTTP {response.status_code}: {response.text[:200]}"


def open_client(
    base_url: str, client_id: str, client_secret: str, token: str | None
) -> httpx.Client:
    """``connect`` for a verb's options."""
    return connect(base_url, client_id=client_id, client_secret=client_secret, token=token)


def send(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; a sandbox that does not answer is ``SandboxUnreachable`` (exit 2)."""
    try:
        return client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise SandboxUnreachable(f"no answer from the sandbox at {client.base_url}: {exc}") from exc
