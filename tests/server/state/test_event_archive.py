"""The event archive (``EventArchive``) on both engines: per client, bounded, dropped by a reset."""

from __future__ import annotations

import asyncio

import pytest

import pin_mock.server.state.memory.event_archive as memory_archive
import pin_mock.server.state.redis.event_archive as redis_archive
from pin_mock.server.state.engine import open_state
from redis_db import fresh_db


@pytest.fixture(params=["memory", "redis"])
def engine_url(request: pytest.FixtureRequest) -> str:
    return "memory://" if request.param == "memory" else fresh_db().url


def test_keeps_the_newest_per_client_and_a_reset_drops_them(
    engine_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory_archive, "MAX_EVENTS", 3)
    monkeypatch.setattr(redis_archive, "MAX_EVENTS", 3)

    async def main() -> None:
        engine = open_state(engine_url)
        archive = engine.archive
        try:
            for number in range(5):
                await archive.keep("a", f"msg_{number}", f"body {number}".encode())
            await archive.keep("b", "msg_0", b"theirs")
            await archive.keep("a", "msg_4", b"body 4")  # kept again: not counted twice
            kept = [await archive.get("a", f"msg_{n}") for n in range(5)]
            assert kept == [None, None, b"body 2", b"body 3", b"body 4"]
            assert await archive.get("b", "msg_0") == b"theirs"  # another client's own
            assert await archive.get("c", "msg_0") is None
            await engine.tenants.reset("a")
            assert [await archive.get("a", f"msg_{n}") for n in range(5)] == [None] * 5
            assert await archive.get("b", "msg_0") == b"theirs"
        finally:
            await engine.aclose()

    asyncio.run(main())
