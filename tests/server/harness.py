"""The in-process sandbox the tests drive: a Starlette test client plus helpers.

Kept out of ``conftest.py`` so tests can import it by a name no other
directory's conftest shadows.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.testclient import TestClient

from pin_mock.server.services import Services
from spec_conformance import assert_conforms
from tokens import fetch_token


class Sandbox:
    """An in-process sandbox with helpers; every response is checked against the spec."""

    def __init__(self, client: TestClient, services: Services) -> None:
        self.http = client
        self.services = services
        self.settings = services.settings
        self._tokens: dict[tuple[str, str | None], str] = {}

    @property
    def engine(self) -> str:
        """``memory`` or ``redis``: the state engine this sandbox runs on (its settings')."""
        return "memory" if self.settings.state.startswith("memory") else "redis"

    def token(self, client_id: str = "sandbox-enterprise", scope: str | None = None) -> str:
        """A (cached) access token for a sandbox client."""
        key = (client_id, scope)
        if key not in self._tokens:
            self._tokens[key] = fetch_token(self.http, client_id, scope)
        return self._tokens[key]

    def request(
        self,
        method: str,
        url: str,
        *,
        as_client: str | None = "sandbox-enterprise",
        check: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Call the API as ``as_client`` (None: no token) and check the contract.

        ``headers`` is a mapping, or a list of ``(name, value)`` pairs sent as they are
        (repeated headers; no token is added to a list).
        """
        headers = kwargs.pop("headers", {}) or {}
        if not isinstance(headers, list):
            headers = dict(headers)
            if as_client is not None:
                headers.setdefault("Authorization", f"Bearer {self.token(as_client)}")
        response = self.http.request(method, url, headers=headers, **kwargs)
        if check and url.startswith("/v1"):
            assert_conforms(response)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)
