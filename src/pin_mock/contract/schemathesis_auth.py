"""Schemathesis auth providers: ``Authorization: Bearer <token>`` from a ``TokenSource``.

They apply only to operations that require the spec's OAuth scheme
(``requires_oauth``), so the token endpoint itself is tested without a token.
``PinOAuthProvider`` (registered by ``hooks.py`` for plain ``st run``) reads the
credentials from the environment; ``provider_for`` binds one token source (the
pytest plugin's).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from pin_mock.contract.spec import Spec
from pin_mock.contract.tokens import Credentials, TokenError, TokenSource

#: Environment variables read by the hooks module (plain ``st run``) and set by the runner.
ENV_CLIENT_ID = "PIN_CLIENT_ID"
ENV_CLIENT_SECRET = "PIN_CLIENT_SECRET"
ENV_TOKEN_URL = "PIN_TOKEN_URL"


def requires_oauth(ctx: Any) -> bool:
    """Schemathesis filter: the operation requires the spec's client-credentials scheme."""
    operation = ctx.operation
    spec = Spec.of(operation.schema.raw_schema)
    found = spec.find(operation.method, operation.path)
    return found is not None and found.requires(spec.oauth2_scheme)


def bearer(case: Any, token: str) -> None:
    """Put ``Authorization: Bearer <token>`` on a Schemathesis case."""
    case.headers = dict(case.headers or {})
    case.headers["Authorization"] = f"Bearer {token}"


class PinOAuthProvider:
    """Schemathesis auth provider with credentials from the environment.

    Credentials come from ``PIN_CLIENT_ID``/``PIN_CLIENT_SECRET``; the token URL
    from ``PIN_TOKEN_URL`` or the spec's ``tokenUrl`` against the run's base URL.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: TokenSource | None = None

    def get(self, case: Any, ctx: Any) -> str | None:
        return self._token_source(case).token()

    def set(self, case: Any, data: str, ctx: Any) -> None:
        bearer(case, data)

    def _token_source(self, case: Any) -> TokenSource:
        with self._lock:
            if self._source is None:
                self._source = TokenSource(credentials_from_env(case.operation.schema))
            return self._source


def provider_for(tokens: TokenSource) -> type:
    """An auth provider class bound to one ``TokenSource`` (the pytest plugin's)."""

    class BoundPinOAuthProvider:
        def get(self, case: Any, ctx: Any) -> str | None:
            return tokens.token()

        def set(self, case: Any, data: str, ctx: Any) -> None:
            bearer(case, data)

    return BoundPinOAuthProvider


def credentials_from_env(schema: Any) -> Credentials:
    """Credentials for a Schemathesis schema from the environment (see ``PinOAuthProvider``)."""
    client_id = os.environ.get(ENV_CLIENT_ID)
    client_secret = os.environ.get(ENV_CLIENT_SECRET)
    if not client_id or not client_secret:
        raise TokenError(
            f"set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} for the PIN auth provider", usage=True
        )
    path = os.environ.get(ENV_TOKEN_URL) or Spec.of(schema.raw_schema).token_url
    return Credentials.for_target(schema.get_base_url(), path, client_id, client_secret)
