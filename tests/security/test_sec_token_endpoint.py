"""The token endpoint: small forms, bounded errors, junk budgeted, no team locked out by a stranger.

OWASP API Security Top 10 2023:
- API4:2023 Unrestricted Resource Consumption: before issue 18 (finding 4) a
  1 MiB form of 90,000 fields cost 0.2-0.4 s of blocking parsing per request,
  malformed requests were not counted by any throttle, and an error named
  every unknown field (a 770 KB ``error_description`` for a 770 KB body). Now
  a form is at most 4 KiB (413 before it is read) and 16 fields, an error
  names a few fields, cut, and malformed requests have their own, generous
  budget per address.
- API2:2023 Broken Authentication: ten wrong secrets a minute locked a public
  client id for everyone, the right secret included (finding 13): one script
  locked a whole team out of a shared sandbox. Now the lock is per (client id,
  address), and a per-client-id ceiling well above what one address may fail
  still throttles a brute force spread over many addresses.

A real server on loopback where the caller's address is the point (it believes
``X-Forwarded-For`` from 127.0.0.1, so each test can speak from several).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from harness import Sandbox
from sec_servers import serve_sandbox
from spec_conformance import assert_conforms

FORM = "application/x-www-form-urlencoded"


def _form(client_id: str, secret: str | None = None) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret if secret is not None else f"{client_id}-secret",
    }


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _throttled(answer: httpx.Response) -> bool:
    return answer.status_code == 429 and answer.json()["error"] == "temporarily_unavailable"


def test_a_stranger_cannot_lock_a_team_out_of_its_client() -> None:
    with (
        serve_sandbox(forwarded_allow_ips="127.0.0.1") as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        stranger = [
            http.post("/oauth/token", data=_form("sandbox-standard", "guess"), headers=_from(a))
            for a in ["203.0.113.7"] * 12
        ]
        assert [a.status_code for a in stranger[:10]] == [401] * 10
        assert all(_throttled(a) for a in stranger[10:])
        # The stranger is locked out of that client; the team, elsewhere, is not.
        locked = http.post(
            "/oauth/token", data=_form("sandbox-standard"), headers=_from("203.0.113.7")
        )
        assert _throttled(locked)
        team = http.post(
            "/oauth/token", data=_form("sandbox-standard"), headers=_from("198.51.100.2")
        )
        assert team.status_code == 200, team.text


def test_a_brute_force_from_many_addresses_meets_the_per_client_ceiling() -> None:
    with (
        serve_sandbox(forwarded_allow_ips="127.0.0.1", token_failures_per_client=15) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        for i in range(15):  # 15 failures from 15 addresses: no pair reaches its 10
            answer = http.post(
                "/oauth/token",
                data=_form("sandbox-standard", f"g{i}"),
                headers=_from(f"203.0.113.{i}"),
            )
            assert answer.status_code == 401
        fresh = http.post(
            "/oauth/token", data=_form("sandbox-standard"), headers=_from("192.0.2.1")
        )
        assert _throttled(fresh)
        assert "for this client" in fresh.json()["error_description"]
        other = http.post(
            "/oauth/token", data=_form("sandbox-professional"), headers=_from("192.0.2.1")
        )
        assert other.status_code == 200


def test_a_large_form_is_refused_before_it_is_read(sandbox: Sandbox) -> None:
    body = b"&".join(b"%%41%d=%%41" % i for i in range(80_000))  # 1 MiB, 80,000 fields
    started = time.monotonic()
    answer = sandbox.http.post("/oauth/token", content=body, headers={"Content-Type": FORM})
    assert time.monotonic() - started < 5.0
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "invalid_request"
    assert "4096 bytes" in answer.json()["error_description"]
    assert len(answer.content) < 300
    assert_conforms(answer)


def test_a_form_of_many_fields_is_400(sandbox: Sandbox) -> None:
    answer = sandbox.http.post("/oauth/token", content=b"a=&" * 200, headers={"Content-Type": FORM})
    assert answer.status_code == 400
    assert "more than 16 fields" in answer.json()["error_description"]


def test_unknown_fields_are_named_briefly(sandbox: Sandbox) -> None:
    names = [f"{i}{'n' * 250}" for i in range(12)]
    body = "&".join(f"{name}=1" for name in names).encode()  # about 3 KB, under the limit
    answer = sandbox.http.post("/oauth/token", content=body, headers={"Content-Type": FORM})
    assert answer.status_code == 400
    described = answer.json()["error_description"]
    assert described.startswith("Unknown field(s): 0nnn") and "and 7 more" in described
    assert len(described) < 400, len(described)


def test_malformed_requests_have_their_own_budget_per_address(sandbox_factory: Any) -> None:
    sandbox: Sandbox = sandbox_factory(token_malformed_per_address=3)
    http = sandbox.http
    junk = [
        http.post("/oauth/token", data={"grant_type": "client_credentials", "x": "1"}),
        http.post("/oauth/token", content=b"%zz", headers={"Content-Type": FORM}),
        http.post("/oauth/token", json={"grant_type": "client_credentials"}),
    ]
    assert [a.status_code for a in junk] == [400, 400, 415]
    # Past the budget the address is refused before its request is read, good or not.
    refused = http.post("/oauth/token", data=_form("sandbox-standard"))
    assert _throttled(refused) and "malformed" in refused.json()["error_description"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert_conforms(refused)
    # Malformed requests are not failed authentications: no client id is locked.
    assert sandbox.http.post("/v1/patients").status_code == 401  # /v1 is unaffected


def test_the_default_malformed_budget_is_generous(sandbox: Sandbox) -> None:
    # A fuzzing run sends hundreds of malformed token requests: it is not locked out.
    for _ in range(300):
        junk = {"grant_type": "client_credentials", "extra": "1"}
        assert sandbox.http.post("/oauth/token", data=junk).status_code == 400
    assert sandbox.http.post("/oauth/token", data=_form("sandbox-standard")).status_code == 200
