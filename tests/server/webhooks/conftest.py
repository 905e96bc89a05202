"""The webhook tests' receiver fixture (the app fixtures come from tests/server/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
