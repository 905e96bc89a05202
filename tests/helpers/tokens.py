"""An access token for a bundled sandbox client, from any in-process HTTP client."""

from __future__ import annotations

from typing import Any


def fetch_token(http: Any, client_id: str, scope: str | None = None) -> str:
    """``POST /oauth/token`` for ``client_id`` (secret ``<id>-secret``), optionally narrowed."""
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": f"{client_id}-secret",
    }
    if scope:
        form["scope"] = scope
    answer = http.post("/oauth/token", data=form)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]
