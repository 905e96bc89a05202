"""A Redis database of the test session's own, on the machine's Redis (127.0.0.1:6379).

Several pytest sessions (and xdist workers) run at once on one machine and
share one Redis server, so a session never flushes a database it did not
claim, and never database 0 (where the claims are kept). ``claim()`` takes a
free database number 1..15 with ``SET pin-mock-test-claim:{n} <owner> NX EX``
in database 0, flushes it, and gives it back at the end (``release``); a claim
left by a killed session expires after ``CLAIM_SECONDS``.

Without a reachable Redis the tests that need one are skipped with the reason,
unless ``PIN_MOCK_REQUIRE_REDIS=1`` (CI sets it): then they fail.
``PIN_MOCK_TEST_REDIS`` names another server (``redis://HOST:PORT``).
"""

from __future__ import annotations

import atexit
import os
import time
import uuid
from dataclasses import dataclass
from functools import cache

import pytest
import redis

SERVER = os.environ.get("PIN_MOCK_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
CLAIM_SECONDS = 3600
DATABASES = range(1, 16)
#: How long ``claim`` waits for a database when every one is taken.
WAIT_SECONDS = 120.0

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@cache
def unreachable_reason() -> str | None:
    """Why Redis cannot be used (None when it can), checked once per process."""
    try:
        redis.Redis.from_url(f"{SERVER}/0", socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable at {SERVER} ({exc})"
    return None


def require_redis() -> None:
    """Skip the calling test without Redis, or fail it if ``PIN_MOCK_REQUIRE_REDIS=1``."""
    reason = unreachable_reason()
    if reason is None:
        return
    if os.environ.get("PIN_MOCK_REQUIRE_REDIS") == "1":
        pytest.fail(f"{reason}; PIN_MOCK_REQUIRE_REDIS=1 requires it", pytrace=False)
    pytest.skip(f"{reason}: the tests on the Redis engine are skipped")


@dataclass
class ClaimedDb:
    """One claimed database: its number, its URL, a client; ``flush`` empties only it."""

    number: int
    owner: str

    @property
    def url(self) -> str:
        return f"{SERVER}/{self.number}"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def flush(self) -> None:
        with self.client() as client:
            client.flushdb()

    def release(self) -> None:
        self.flush()
        with redis.Redis.from_url(f"{SERVER}/0") as claims:
            claims.eval(_RELEASE, 1, _claim_key(self.number), self.owner)


def _claim_key(number: int) -> str:
    return f"pin-mock-test-claim:{number}"


def claim() -> ClaimedDb:
    """A free database of this process's own, flushed (``require_redis`` first)."""
    require_redis()
    owner = f"{os.getpid()}:{uuid.uuid4().hex}"
    deadline = time.monotonic() + WAIT_SECONDS
    with redis.Redis.from_url(f"{SERVER}/0") as claims:
        while True:
            for number in DATABASES:
                if claims.set(_claim_key(number), owner, nx=True, ex=CLAIM_SECONDS):
                    db = ClaimedDb(number, owner)
                    db.flush()
                    return db
            if time.monotonic() > deadline:
                pytest.fail(f"no free Redis database 1..15 at {SERVER} after {WAIT_SECONDS} s")
            time.sleep(0.5)


_PROCESS_DB: ClaimedDb | None = None


def process_db() -> ClaimedDb:
    """This process's database (each xdist worker is a process), claimed on first use,
    released when the process ends; not flushed here (``fresh_db`` is).
    """
    global _PROCESS_DB
    if _PROCESS_DB is None:
        _PROCESS_DB = claim()
        atexit.register(_PROCESS_DB.release)
    return _PROCESS_DB


def fresh_db() -> ClaimedDb:
    """This process's database, flushed: what one test starts from."""
    db = process_db()
    db.flush()
    return db


@pytest.fixture
def redis_db() -> ClaimedDb:
    """A claimed Redis database, flushed for this test (import it into a conftest)."""
    return fresh_db()
