"""Real servers on loopback for the kit's end-to-end tests: the sandbox, and proxies.

The kit talks HTTP to its target (and runs ``st run`` in a subprocess), so its
end-to-end tests need a real server: uvicorn in a thread, on a free port.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from loopback import running

#: Test sandboxes allow far more than a real tier: many kit runs share one client and address.
TEST_TIER_LIMITS = {"standard": 1_000_000, "professional": 1_000_000, "enterprise": 1_000_000}
TEST_TOKEN_THROTTLE = {
    "token_failures_per_client_address": 1_000_000,
    "token_failures_per_client": 1_000_000,
    "token_failures_per_address": 1_000_000,
    "token_malformed_per_address": 1_000_000,
    "token_grants_per_client": 1_000_000,
}


@contextmanager
def serve(app: Any, *, lifespan: str = "on") -> Iterator[str]:
    """Serve an ASGI app on a free loopback port; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="error", lifespan=lifespan, loop="asyncio"
    )
    with running(config, name="kit-test-server") as url:
        yield url


def sandbox_app(**overrides: Any) -> Any:
    """The real pin-mock sandbox (the tests may import the server; the kit may not)."""
    from pin_mock.server.app import create_app
    from pin_mock.server.settings import Settings

    # Fuzzed runs register webhooks to unreachable hosts: short timeouts keep shutdown quick.
    settings = Settings(
        **{
            "report_delay": 0.0,
            "tier_limits": TEST_TIER_LIMITS,
            # ... and the token endpoint's throttle: every run fetches tokens, its probes
            # send wrong secrets and Schemathesis fuzzes /oauth/token, all from 127.0.0.1.
            **TEST_TOKEN_THROTTLE,
            "webhook_timeout": 2.0,
            # The webhook probe waits for a retry after a 500: 1 s instead of 5 s.
            "webhook_retry_factor": 0.2,
            **overrides,
        }
    )
    return create_app(settings)


def reset_sandbox(base_url: str, client_id: str = "sandbox-enterprise") -> None:
    """Put the client's sandbox back to the seeded state (``POST /_sandbox/reset``).

    Runs share one sandbox; without a reset, webhooks a fuzzed run registered
    would receive every later run's events.
    """
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": f"{client_id}-secret",
    }
    token = httpx.post(f"{base_url}/oauth/token", data=form).json()["access_token"]
    answer = httpx.post(f"{base_url}/_sandbox/reset", headers={"Authorization": f"Bearer {token}"})
    if answer.status_code == 403 and "required_scope" in answer.json()["error"]["details"]:
        return  # a reset needs every write scope; a read-only client wrote nothing to drop
    answer.raise_for_status()
