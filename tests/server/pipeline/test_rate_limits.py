"""Tiered, per-client rate limits with PIN's headers."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from harness import Sandbox
from pin_mock.server import Settings, create_app


def test_every_v1_response_has_rate_limit_headers(sandbox: Sandbox) -> None:
    for response in (
        sandbox.get("/v1/patients"),
        sandbox.get("/v1/patients/nobody"),
        sandbox.get("/v1/patients", as_client=None),
        sandbox.get("/v1/patients?limit=0"),
    ):
        assert int(response.headers["x-ratelimit-limit"]) == 100_000 or response.status_code == 401
        remaining = int(response.headers["x-ratelimit-remaining"])
        assert 0 <= remaining <= int(response.headers["x-ratelimit-limit"])
        assert int(response.headers["x-ratelimit-reset"]) > time.time()


def test_unknown_v1_route_still_has_rate_limit_headers(sandbox: Sandbox) -> None:
    response = sandbox.get("/v1/unknown", check=False)
    assert response.status_code == 404
    assert "x-ratelimit-remaining" in response.headers


def test_token_endpoint_and_docs_are_not_counted(sandbox_factory) -> None:
    sandbox = sandbox_factory(tier_limits={"standard": 3, "professional": 3, "enterprise": 3})
    before = int(sandbox.get("/v1/patients?limit=1").headers["x-ratelimit-remaining"])
    form = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-enterprise",
        "client_secret": "sandbox-enterprise-secret",
    }
    uncounted = [
        sandbox.http.post("/oauth/token", data=form),
        sandbox.http.post("/oauth/token", data={**form, "client_secret": "wrong"}),
        sandbox.http.get("/openapi.json"),
        sandbox.http.get("/openapi.yaml"),
        sandbox.http.get("/docs/"),
    ]
    assert [r.status_code for r in uncounted] == [200, 401, 200, 200, 200]
    for response in uncounted:
        assert "x-ratelimit-limit" not in response.headers, response.url
    after = int(sandbox.get("/v1/patients?limit=1").headers["x-ratelimit-remaining"])
    assert after == before - 1  # only the two /v1 calls were counted


def test_a_429_carries_a_request_id(sandbox_factory) -> None:
    sandbox = sandbox_factory(tier_limits={"standard": 1, "professional": 1, "enterprise": 1})
    sandbox.get("/v1/patients?limit=1")
    refused = sandbox.get("/v1/patients?limit=1", headers={"X-Request-Id": "trace-429"})
    assert refused.status_code == 429
    assert refused.headers["x-request-id"] == "trace-429"
    assert sandbox.get("/v1/patients?limit=1").headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize(
    ("client_id", "limit"),
    [("sandbox-standard", 5), ("sandbox-professional", 8), ("sandbox-enterprise", 11)],
)
def test_each_tier_gets_its_own_limit_then_429(sandbox_factory, client_id: str, limit: int) -> None:
    sandbox = sandbox_factory(
        tier_limits={"standard": 5, "professional": 8, "enterprise": 11}, rate_limit_window=60
    )
    remaining = [
        int(
            sandbox.get("/v1/patients?limit=1", as_client=client_id).headers[
                "x-ratelimit-remaining"
            ]
        )
        for _ in range(limit)
    ]
    assert remaining == list(range(limit - 1, -1, -1))
    refused = sandbox.get("/v1/patients?limit=1", as_client=client_id)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert int(refused.headers["x-ratelimit-remaining"]) == 0
    assert int(refused.headers["x-ratelimit-reset"]) - time.time() <= retry_after + 1


def test_clients_are_counted_separately(sandbox_factory) -> None:
    sandbox = sandbox_factory(tier_limits={"standard": 2, "professional": 2, "enterprise": 2})
    for _ in range(2):
        sandbox.get("/v1/patients", as_client="sandbox-standard")
    assert sandbox.get("/v1/patients", as_client="sandbox-standard").status_code == 429
    assert sandbox.get("/v1/patients", as_client="sandbox-readonly").status_code == 200


def test_window_reset_admits_requests_again(sandbox_factory) -> None:
    # ``limits`` counts on the real clock, so this waits (bounded) for a 1 s window.
    sandbox = sandbox_factory(
        tier_limits={"standard": 1, "professional": 1, "enterprise": 1},
        rate_limit_window=1,
    )
    assert sandbox.get("/v1/patients").status_code == 200
    refused = sandbox.get("/v1/patients")
    assert refused.status_code == 429
    # Wait for the window the server announced, bounded, instead of a fixed sleep.
    deadline = time.time() + 3
    while time.time() < int(refused.headers["x-ratelimit-reset"]) and time.time() < deadline:
        time.sleep(0.05)
    assert sandbox.get("/v1/patients").status_code == 200


def test_concurrent_requests_admit_exactly_the_limit() -> None:
    limit, extra = 20, 15
    settings = Settings(tier_limits={"standard": limit, "professional": limit, "enterprise": limit})
    app = create_app(settings)

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            token = (
                await client.post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": "sandbox-standard",
                        "client_secret": "sandbox-standard-secret",
                    },
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            responses = await asyncio.gather(
                *(client.get("/v1/patients?limit=1", headers=headers) for _ in range(limit + extra))
            )
            return [r.status_code for r in responses]

    statuses = asyncio.run(run())
    assert statuses.count(200) == limit
    assert statuses.count(429) == extra
