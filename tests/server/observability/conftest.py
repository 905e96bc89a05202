"""A private Redis for the outage tests of the probes and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from private_redis import PrivateRedis


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()
