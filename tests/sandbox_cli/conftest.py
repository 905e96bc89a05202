"""A live sandbox (uvicorn in a thread, memory engine) and an app that verifies deliveries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopback import running
from pin_mock.server import Settings, create_app
from pin_mock.server.transport.uvicorn_config import uvicorn_config
from verifying_app import VerifyingApp


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    settings = Settings(report_delay=0.0, webhook_retry_schedule=(0.05, 0.1), webhook_timeout=5.0)
    config = uvicorn_config(
        create_app(settings),
        settings,
        host="127.0.0.1",
        port=0,
        loop="asyncio",
        log_level="warning",
    )
    with running(config, name="cli-sandbox") as url:
        yield url


@pytest.fixture
def app() -> Iterator[VerifyingApp]:
    server = VerifyingApp()
    yield server
    server.close()
