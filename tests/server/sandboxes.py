"""Sandbox factories (pytest fixtures), shared by tests/server and tests/security.

Every sandbox test runs on both state engines: ``[memory]`` (in this process)
and ``[redis]`` (a Redis database claimed by this test process,
``tests/helpers/redis_db.py``, flushed for each test). Without Redis the
``[redis]`` half is skipped with the reason (failed under
``PIN_MOCK_REQUIRE_REDIS=1``). A test that is about one engine only asks for
it with ``@pytest.mark.parametrize("sandbox_factory", ["redis"], indirect=True)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from harness import Sandbox
from pin_mock.server import Settings, create_app
from pin_mock.server.wiring import build_services
from redis_db import fresh_db

ENGINES = ["memory", "redis"]


def engine_url(engine: str) -> str:
    """``--state`` for ``engine``: ``memory://`` or this process's Redis database, flushed."""
    return "memory://" if engine == "memory" else fresh_db().url


@pytest.fixture(params=ENGINES)
def sandbox_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., Sandbox]]:
    """Build sandboxes with custom settings (on this test's engine); shut down after the test."""
    engine = engine_url(request.param)
    opened: list[TestClient] = []

    def make(clock: Callable[[], float] | None = None, **overrides: Any) -> Sandbox:
        settings = Settings(**{"report_delay": 0.0, "state": engine, **overrides})
        services = build_services(settings, clock=clock or time.time)
        client = TestClient(create_app(settings, services=services), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return Sandbox(client, services)

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A default sandbox (seed 42, 150 patients, no report delay)."""
    return sandbox_factory()
