"""Forwarding headers are believed only from the proxies the operator names.

OWASP API Security Top 10 2023:
- API4:2023 Unrestricted Resource Consumption: uvicorn trusted ``X-Forwarded-For``
  from 127.0.0.1 by default, so a local caller rotating it got a fresh rate-limit
  bucket per request (issue 10, finding 1). By default the peer address counts;
  with ``forwarded_allow_ips`` naming the proxy the header is honoured.
- API8:2023 Security Misconfiguration: the trust is an explicit setting, off by default.
"""

from __future__ import annotations

import httpx
import pytest

from pin_mock.server.errors import ConfigError
from pin_mock.server.settings import Settings
from sec_servers import serve_sandbox

#: A tiny budget for callers without a token (counted per address, at the standard tier).
LIMITS = {"standard": 3, "professional": 1000, "enterprise": 1000}


def _rotating_forwarded_for(base_url: str, count: int) -> list[httpx.Response]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return [
            client.get("/v1/patients", headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
            for i in range(count)
        ]


def test_rotating_x_forwarded_for_shares_one_bucket_by_default() -> None:
    with serve_sandbox(tier_limits=LIMITS) as base_url:
        answers = _rotating_forwarded_for(base_url, LIMITS["standard"] + 2)
    statuses = [a.status_code for a in answers]
    assert statuses[: LIMITS["standard"]] == [401] * LIMITS["standard"]
    assert statuses[LIMITS["standard"] :] == [429, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]


def test_forwarded_for_is_honoured_from_a_named_proxy() -> None:
    with serve_sandbox(tier_limits=LIMITS, forwarded_allow_ips="127.0.0.1") as base_url:
        answers = _rotating_forwarded_for(base_url, LIMITS["standard"] + 2)
    # Each forwarded address is a different caller, with a bucket of its own.
    assert [a.status_code for a in answers] == [401] * (LIMITS["standard"] + 2)
    assert {a.headers["X-RateLimit-Remaining"] for a in answers} == {"2"}


def test_forwarded_for_from_a_proxy_not_named_is_ignored() -> None:
    with serve_sandbox(tier_limits=LIMITS, forwarded_allow_ips="10.0.0.0/8") as base_url:
        answers = _rotating_forwarded_for(base_url, LIMITS["standard"] + 1)
    assert answers[-1].status_code == 429


@pytest.mark.parametrize("value", ["localhost", "127.0.0.1,not-an-ip", "300.1.1.1"])
def test_forwarded_allow_ips_must_be_addresses(value: str) -> None:
    with pytest.raises(ConfigError, match="forwarded_allow_ips"):
        Settings(forwarded_allow_ips=value)
