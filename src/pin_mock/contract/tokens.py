"""Access tokens from the target's own token endpoint, cached and refreshed in time.

``TokenSource`` is shared by the Schemathesis auth providers
(``schemathesis_auth.py``), the kit's probes and the pytest plugin. Schemathesis runs workers as threads, so
the cache is behind a lock and only one thread fetches at a time. The token is
refreshed before ``expires_in`` runs out rather than after a 401, because a 401
is exactly what the kit must see when a target misbehaves.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

#: Refresh when this share of the lifetime is left (and at least ``MIN_HEADROOM`` seconds).
HEADROOM_SHARE = 0.1
MIN_HEADROOM = 5.0
#: A throttled token endpoint (429 with ``Retry-After``) is waited for at most this
#: long, this many times: its own brute-force throttle may count the kit's
#: deliberately wrong secrets, and that must not fail the next run.
MAX_RETRY_AFTER = 60.0
THROTTLE_RETRIES = 2


class TokenError(Exception):
    """No token: the endpoint is unreachable, refused the credentials, or answered nonsense.

    ``usage`` is true when the fix is on the caller's side (wrong credentials or URL).
    """

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Credentials:
    """A client's id and secret, and where to exchange them for a token."""

    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None

    @classmethod
    def for_target(
        cls, base_url: str, token_path: str, client_id: str, client_secret: str
    ) -> Credentials:
        """Resolve a relative ``tokenUrl`` (``/oauth/token``) against the target's base URL."""
        if "://" in token_path:
            return cls(token_path, client_id, client_secret)
        return cls(
            urljoin(base_url.rstrip("/") + "/", token_path.lstrip("/")), client_id, client_secret
        )


class TokenSource:
    """A cached bearer token for one client; thread-safe."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        post: Callable[..., httpx.Response] | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials
        self._post = post or (lambda url, **kw: httpx.post(url, timeout=timeout, **kw))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        #: The scopes the last grant gave (its ``scope``; ``None`` when it did not say).
        self.granted: frozenset[str] | None = None
        #: How the credentials are sent: ``post`` (form body), or ``basic`` once post was refused.
        self.method = "post"

    def token(self) -> str:
        """A valid access token, fetched on first use and again before it expires."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._token, lifetime = self._fetch()
                headroom = max(MIN_HEADROOM, lifetime * HEADROOM_SHARE)
                self._refresh_at = self._clock() + max(0.0, lifetime - headroom)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        creds = self.credentials
        response = self._ask(self.method)
        if self.method == "post" and _refused(response):
            # The contract offers HTTP Basic too (RFC 6749 requires it): a target that
            # refuses one method still gets a run; the token probe reports which one.
            basic = self._ask("basic")
            if basic.status_code == 200:
                self.method, response = "basic", basic
        payload = _json(response)
        if response.status_code in (400, 401) and isinstance(payload, dict):
            if payload.get("error") in ("invalid_client", "unauthorized_client"):
                raise TokenError(
                    f"the target refused client {creds.client_id!r} ({payload['error']}): "
                    "check --client-id/--client-secret (or PIN_CLIENT_ID/PIN_CLIENT_SECRET)",
                    usage=True,
                )
        if response.status_code != 200 or not isinstance(payload, dict):
            raise TokenError(
                f"token endpoint {creds.token_url} answered {response.status_code}: "
                f"{response.text[:200]!r}"
            )
        token, lifetime = payload.get("access_token"), payload.get("expires_in")
        if not isinstance(token, str) or not token:
            raise TokenError(
                f"token endpoint answered without an access_token: {response.text[:200]!r}"
            )
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
            raise TokenError(f"token endpoint answered a bad expires_in: {lifetime!r}")
        scope = payload.get("scope")
        self.granted = frozenset(scope.split()) if isinstance(scope, str) else None
        return token, float(lifetime)

    def _ask(self, method: str) -> httpx.Response:
        """One token request (waiting out a short throttle), credentials sent by ``method``."""
        creds = self.credentials
        form = {"grant_type": "client_credentials"}
        headers = {}
        if method == "basic":
            pair = f"{creds.client_id}:{creds.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form |= {"client_id": creds.client_id, "client_secret": creds.client_secret}
        if creds.scope:
            form["scope"] = creds.scope
        response = self._post_form(form, headers)
        for _ in range(THROTTLE_RETRIES):
            wait = retry_after(response)
            if wait is None or wait > MAX_RETRY_AFTER:
                break
            self._sleep(wait)
            response = self._post_form(form, headers)
        return response

    def _post_form(
        self, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        try:
            if headers:
                return self._post(self.credentials.token_url, data=form, headers=headers)
            return self._post(self.credentials.token_url, data=form)
        except httpx.HTTPError as exc:
            raise TokenError(
                f"cannot reach the token endpoint {self.credentials.token_url}: {exc}",
                usage=True,
            ) from exc


def retry_after(response: httpx.Response) -> float | None:
    """Seconds a 429 asks to wait (``Retry-After`` in seconds), or None."""
    if response.status_code != 429:
        return None
    raw = response.headers.get("retry-after", "")
    return float(raw) if raw.isdigit() else None


def _refused(response: httpx.Response) -> bool:
    payload = _json(response)
    return (
        response.status_code in (400, 401)
        and isinstance(payload, dict)
        and payload.get("error") in ("invalid_client", "unauthorized_client", "invalid_request")
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
