"""Factories for the sandbox app, in-process clients and tokens (``sandboxes.py``), the
webhook tests' loopback receiver, and a Redis of a test's own to stop or freeze."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopback_receiver import Receiver
from private_redis import PrivateRedis
from sandboxes import sandbox, sandbox_factory  # noqa: F401 - fixtures


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A ``redis-server`` of this test's own (the machine's one is shared, never stopped)."""
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()
