"""Factories for the sandbox app, in-process clients and tokens (``sandboxes.py``), and the
webhook tests' loopback receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopback_receiver import Receiver
from sandboxes import sandbox, sandbox_factory  # noqa: F401 - fixtures


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()
