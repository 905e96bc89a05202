"""Signing keys: shared through Redis, rotated, retired keys verifying for a grace period."""

from __future__ import annotations

import time

import pytest

from pin_mock.server.domain.auth import Client, TokenService
from pin_mock.server.domain.keys import KeyRing
from pin_mock.server.errors import Unauthorized
from pin_mock.server.state.memory.keys import MemorySigningKeys
from pin_mock.server.state.redis.keys import RedisSigningKeys
from redis_db import ClaimedDb, fresh_db

CLIENT = Client("sandbox-standard", "x", "standard", frozenset({"patients:read"}))


#: A period boundary (of 100 s) a while ago: PyJWT checks ``exp`` and ``iat`` on the real
#: clock, so the test's clock moves forward from the past, never beyond now.
START = (time.time() - 1000) // 100 * 100


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tokens(clock: Clock, ring: KeyRing) -> TokenService:
    return TokenService(ttl=3600, issuer="pin-mock", clock=clock, keys=ring)


def issue(service: TokenService) -> str:
    return service.issue(CLIENT, CLIENT.scopes)["access_token"]


@pytest.fixture
def db() -> ClaimedDb:
    return fresh_db()


def test_a_token_from_one_worker_verifies_on_another_and_after_a_restart(db: ClaimedDb) -> None:
    clock = Clock()
    with db.client() as one, db.client() as two:
        worker_a = tokens(
            clock, KeyRing(RedisSigningKeys(one, "pin:keys"), rotation=0, grace=3600, clock=clock)
        )
        worker_b = tokens(
            clock, KeyRing(RedisSigningKeys(two, "pin:keys"), rotation=0, grace=3600, clock=clock)
        )
        token = issue(worker_a)
        assert worker_b.verify(token)["sub"] == CLIENT.client_id
        restarted = tokens(
            clock, KeyRing(RedisSigningKeys(two, "pin:keys"), rotation=0, grace=3600, clock=clock)
        )
        assert restarted.verify(token)["sub"] == CLIENT.client_id
        assert issue(restarted) != token


def test_keys_rotate_and_a_retired_key_verifies_for_its_grace(db: ClaimedDb) -> None:
    clock = Clock()
    period = int(START // 100)
    with db.client() as one, db.client() as two:
        ring_a = KeyRing(RedisSigningKeys(one, "pin:keys"), rotation=100, grace=50, clock=clock)
        ring_b = KeyRing(RedisSigningKeys(two, "pin:keys"), rotation=100, grace=50, clock=clock)
        old = issue(tokens(clock, ring_a))
        clock.now = START + 120  # the next period: a new current key, the old one retired
        assert ring_a.current()[0] == ring_b.current()[0] == str(period + 1)
        assert ring_a.current()[1] != ring_a.lookup(str(period))
        fresh_b = tokens(clock, ring_b)
        new = issue(fresh_b)
        assert fresh_b.verify(old)["sub"] == fresh_b.verify(new)["sub"] == CLIENT.client_id
        clock.now = START + 151  # the old key's grace (its period's end + 50 s) is over
        later = tokens(clock, ring_b)
        with pytest.raises(Unauthorized):
            later.verify(old)
        assert later.verify(new)["sub"] == CLIENT.client_id
        clock.now = START + 200  # making the third period's key prunes the first's
        ring_b.current()
        assert {k.decode() for k in two.hkeys("pin:keys")} == {str(period + 1), str(period + 2)}


def test_an_unknown_kid_asks_redis_at_most_once_per_refresh(db: ClaimedDb) -> None:
    clock = Clock()
    calls: list[str] = []
    with db.client() as client:

        class Counting:
            def __getattr__(self, name: str):
                calls.append(name)
                return getattr(client, name)

        ring = KeyRing(
            RedisSigningKeys(Counting(), "pin:keys"), rotation=0, grace=3600, clock=clock
        )  # type: ignore[arg-type]
        ring.current()
        calls.clear()
        assert ring.lookup("0") is not None and calls == []  # cached
        for _ in range(5):
            assert ring.lookup("not-a-kid") is None
        assert calls == ["hget"]


def test_memory_keys_are_this_process_own() -> None:
    clock = Clock()
    one = tokens(clock, KeyRing(MemorySigningKeys(), rotation=0, grace=3600, clock=clock))
    other = tokens(clock, KeyRing(MemorySigningKeys(), rotation=0, grace=3600, clock=clock))
    with pytest.raises(Unauthorized):
        other.verify(issue(one))


def test_a_configured_key_is_static_and_shared_by_configuration() -> None:
    clock = Clock()
    one = TokenService(ttl=3600, issuer="pin-mock", key="k" * 32, clock=clock)
    two = TokenService(ttl=3600, issuer="pin-mock", key="k" * 32, clock=clock)
    assert two.verify(issue(one))["sub"] == CLIENT.client_id
