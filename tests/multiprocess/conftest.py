"""The Redis database the multi-process tests share with the sandboxes they start."""

from __future__ import annotations

import pytest

from redis_db import fresh_db


@pytest.fixture
def redis_url() -> str:
    """This test process's claimed database, flushed, as a ``--state`` URL."""
    return fresh_db().url
