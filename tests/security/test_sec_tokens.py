"""``POST /oauth/token`` is throttled: failed client authentications and token grants.

OWASP API Security Top 10 2023:
- API2:2023 Broken Authentication: wrong secrets for one client id from one
  address, for one client id from all addresses, or from one address, are
  limited (10, 1,000 and 100 per minute by default) and then answered 429 with
  ``Retry-After``, before the secret is even checked (issue 10, finding 2:
  1,500 wrong secrets were answered 401 at ~400/s). Since issue 18 a lock is
  per (client id, address): ``test_sec_token_endpoint.py``.
- API4:2023 Unrestricted Resource Consumption: a client with the right secret
  still cannot mint tokens without bound (60 per minute), and junk requests
  count against the caller's address.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest

from harness import Sandbox
from pin_mock.server.errors import ConfigError
from pin_mock.server.settings import Settings
from sec_servers import serve_sandbox
from spec_conformance import assert_conforms, operation_for


def _form(client_id: str, secret: str | None = None) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret if secret is not None else f"{client_id}-secret",
    }


def _assert_throttled(response: httpx.Response, window: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "temporarily_unavailable"
    assert 1 <= int(response.headers["retry-after"]) <= window
    assert response.headers["cache-control"] == "no-store"
    assert_conforms(response)


def test_wrong_secrets_for_one_client_are_locked_out_on_a_real_server() -> None:
    """Finding 2 on loopback: the 11th wrong secret in a minute is 429, not 401."""
    with serve_sandbox() as base, httpx.Client(base_url=base, timeout=30) as http:
        answers = [
            http.post("/oauth/token", data=_form("sandbox-standard", f"guess-{i}"))
            for i in range(12)
        ]
        assert [a.status_code for a in answers[:10]] == [401] * 10
        for answer in answers[10:]:
            _assert_throttled(answer)
        # Locked: even the right secret is refused until the window ends ...
        _assert_throttled(http.post("/oauth/token", data=_form("sandbox-standard")))
        # ... but only for that client id: another client from the same address is served.
        assert http.post("/oauth/token", data=_form("sandbox-professional")).status_code == 200


def test_one_address_cannot_guess_across_client_ids(sandbox_factory: Any) -> None:
    sandbox: Sandbox = sandbox_factory(token_failures_per_address=5)
    http = sandbox.http
    refused = [http.post("/oauth/token", data=_form(f"who-{i}", "x")).status_code for i in range(5)]
    assert refused == [401] * 5
    _assert_throttled(http.post("/oauth/token", data=_form("who-6", "x")))
    # the address is locked for every client, the right secret included
    _assert_throttled(http.post("/oauth/token", data=_form("sandbox-enterprise")))


def test_only_failed_authentications_count_against_the_address(sandbox_factory: Any) -> None:
    # Malformed requests guess no secret: a fuzzing run's junk must not lock a
    # developer out of their own sandbox. Failed authentications do count.
    sandbox: Sandbox = sandbox_factory(token_failures_per_address=2)
    http = sandbox.http
    basic = "Basic " + base64.b64encode(b"no-colon").decode()
    no_grant = {k: v for k, v in _form("sandbox-standard").items() if k != "grant_type"}
    for _ in range(5):
        no_colon = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic},
        )
        assert no_colon.status_code == 400
        assert http.post("/oauth/token", data=no_grant).status_code == 400
    assert http.post("/oauth/token", data=_form("sandbox-standard")).status_code == 200
    assert http.post("/oauth/token", data={"grant_type": "client_credentials"}).status_code == 401
    assert http.post("/oauth/token", data=_form("nobody", "x")).status_code == 401
    _assert_throttled(http.post("/oauth/token", data=_form("sandbox-standard")))


def test_http_basic_failures_are_counted_too(sandbox_factory: Any) -> None:
    sandbox: Sandbox = sandbox_factory(token_failures_per_client=2)
    wrong = "Basic " + base64.b64encode(b"sandbox-standard:nope").decode()
    form = {"grant_type": "client_credentials"}
    statuses = [
        sandbox.http.post("/oauth/token", data=form, headers={"Authorization": wrong}).status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_a_client_cannot_mint_tokens_without_bound(sandbox_factory: Any) -> None:
    sandbox: Sandbox = sandbox_factory(token_grants_per_client=3)
    http = sandbox.http
    statuses = [http.post("/oauth/token", data=_form("sandbox-standard")).status_code]
    statuses += [http.post("/oauth/token", data=_form("sandbox-standard")).status_code]
    statuses += [http.post("/oauth/token", data=_form("sandbox-standard")).status_code]
    assert statuses == [200, 200, 200]
    throttled = http.post("/oauth/token", data=_form("sandbox-standard"))
    _assert_throttled(throttled)
    assert "token requests" in throttled.json()["error_description"]
    # each client has its own budget
    assert http.post("/oauth/token", data=_form("sandbox-professional")).status_code == 200


def test_the_lock_ends_with_its_window(sandbox_factory: Any) -> None:
    sandbox: Sandbox = sandbox_factory(token_failures_per_client=1, token_throttle_window=1)
    http = sandbox.http
    assert http.post("/oauth/token", data=_form("sandbox-standard", "x")).status_code == 401
    _assert_throttled(http.post("/oauth/token", data=_form("sandbox-standard")), window=1)
    deadline = time.monotonic() + 15
    while True:
        answer = http.post("/oauth/token", data=_form("sandbox-standard"))
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert answer.status_code == 200


def test_unknown_client_ids_do_not_lock_anything_but_the_address(sandbox_factory: Any) -> None:
    sandbox: Sandbox = sandbox_factory(token_failures_per_client=1, token_failures_per_address=100)
    http = sandbox.http
    for _ in range(3):
        assert http.post("/oauth/token", data=_form("nobody", "x")).status_code == 401
    assert http.post("/oauth/token", data=_form("sandbox-standard")).status_code == 200


@pytest.mark.parametrize(
    "field",
    [
        "token_throttle_window",
        "token_failures_per_client_address",
        "token_failures_per_client",
        "token_failures_per_address",
        "token_malformed_per_address",
        "token_grants_per_client",
    ],
)
def test_throttle_settings_must_be_positive(field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        Settings(**{field: 0})


def test_defaults_are_the_numbers_the_spec_documents() -> None:
    settings = Settings()
    described = " ".join(operation_for("POST", "/oauth/token")["description"].split())
    assert f"per window of {settings.token_throttle_window} seconds" in described
    assert (
        f"{settings.token_failures_per_client_address} failed client authentications per "
        "client id from one caller address" in described
    )
    assert (
        f"{settings.token_failures_per_client} failed client authentications per client id "
        "from all addresses" in described
    )
    assert f"{settings.token_malformed_per_address} malformed requests" in described
    assert f"at most {settings.max_form_bytes} bytes" in described
    assert (
        f"{settings.token_failures_per_address} failed client authentications (401) per caller"
        in described
    )
    assert f"{settings.token_grants_per_client} token requests per" in described
