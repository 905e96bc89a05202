"""Bearer tokens: only what can be one is verified, and only where one is needed; never a bare 500.

OWASP API Security Top 10 2023:
- API4:2023 Unrestricted Resource Consumption: before issue 18 (finding 5)
  every request on every path had its bearer token verified and the outcome
  cached under the token itself: 10,000 distinct 15 KB junk tokens sent to
  ``/nope`` took the sandbox from 72 to 223 MB. Now a token is verified only
  on ``/v1/`` and ``/_sandbox/``, only if it can be a JWS (at most 4,096
  ASCII characters in three parts), and cached under a 16-byte digest.
- API8:2023 Security Misconfiguration: an empty ``PIN_MOCK_SIGNING_KEY`` was
  accepted; every token request then answered 500 and a token naming the
  ``static`` key got uvicorn's plain-text 500 on every path (finding 10). Now
  start-up refuses an empty or short key (one line, exit 2), and whatever
  goes wrong while verifying a token is the 500 envelope of the operation
  that needed it, never plain text, never on a path that needs no token.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from typing import Any

import jwt
import pytest

from harness import Sandbox
from pin_mock.server.errors import ConfigError
from pin_mock.server.settings import Settings
from sec_servers import free_port


def _junk_jws(size: int = 600) -> str:
    """Something shaped like a JWS (three base64url parts) that is not one."""
    return ".".join(secrets.token_urlsafe(size // 4) for _ in range(3))


def _bearer(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}".encode("latin-1")}


def test_no_token_is_verified_or_remembered_where_none_is_needed(sandbox: Sandbox) -> None:
    cache = sandbox.services.tokens._cache
    for path in ("/nope", "/openapi.json", "/docs", "/oauth/token"):
        for _ in range(50):
            sandbox.http.get(path, headers=_bearer(_junk_jws()))
    assert len(cache) == 0


def test_what_cannot_be_a_token_is_refused_without_being_remembered(sandbox: Sandbox) -> None:
    cache = sandbox.services.tokens._cache
    for junk in ("x" * 15_000, "a.b.c" + "d" * 5_000, "é.é.é", "one.part", "a.b.c.d"):
        answer = sandbox.http.get("/v1/patients", headers=_bearer(junk))
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "UNAUTHORIZED"
    assert len(cache) == 0


def test_tokens_are_remembered_under_a_small_digest(sandbox: Sandbox) -> None:
    cache = sandbox.services.tokens._cache
    for _ in range(20):
        assert (
            sandbox.http.get("/v1/patients", headers=_bearer(_junk_jws(3_000))).status_code == 401
        )
    good = sandbox.token()
    assert sandbox.http.get("/v1/patients", headers=_bearer(good)).status_code == 200
    assert len(cache) == 21
    assert all(isinstance(key, bytes) and len(key) == 16 for key in cache)


def test_a_failure_while_verifying_is_the_envelope_and_only_where_a_token_is_needed(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = sandbox.token()

    def broken(token: str) -> Any:
        raise RuntimeError("a bug in the key ring")

    monkeypatch.setattr(sandbox.services.tokens, "verify", broken)
    answer = sandbox.http.get("/v1/patients", headers=_bearer(good))
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "x-request-id" in answer.headers
    assert sandbox.http.get("/openapi.json", headers=_bearer(good)).status_code == 200


def test_a_token_naming_the_configured_key_but_forged_is_401(sandbox_factory: Any) -> None:
    sandbox: Sandbox = sandbox_factory(signing_key="k" * 32)
    forged = jwt.encode(
        {"sub": "sandbox-enterprise", "scope": "patients:read"},
        "another key that is also long enough",
        algorithm="HS256",
        headers={"kid": "static"},
    )
    answer = sandbox.http.get("/v1/patients", headers=_bearer(forged))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "UNAUTHORIZED"
    assert sandbox.http.get("/openapi.json", headers=_bearer(forged)).status_code == 200


@pytest.mark.parametrize("key", ["", "short", "x" * 31])
def test_an_empty_or_short_signing_key_is_refused(key: str) -> None:
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        Settings(signing_key=key)


def test_serve_refuses_an_empty_signing_key_in_one_line() -> None:
    env = {**os.environ, "PIN_MOCK_SIGNING_KEY": ""}
    done = subprocess.run(
        [sys.executable, "-m", "pin_mock.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "PIN_MOCK_SIGNING_KEY" in lines[0], done.stderr
