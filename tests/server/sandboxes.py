"""Sandbox factories (pytest fixtures), shared by tests/server and tests/security."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from harness import Sandbox
from pin_mock.server import Settings, create_app
from pin_mock.server.services import build_services


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Build sandboxes with custom settings; they are shut down after the test."""
    opened: list[TestClient] = []

    def make(clock: Callable[[], float] | None = None, **overrides: Any) -> Sandbox:
        settings = Settings(**{"report_delay": 0.0, **overrides})
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
