"""A clock per client: what "now" is for the client a request or a job serves.

Every service that dates something or waits for something (tokens, created
objects, reports, webhook deliveries and their retries, rate-limit headers)
reads ``ClientClocks.now``, a plain ``() -> float``. It answers the clock of the
client being served: the authentication layer ``enter``s the caller's clock
once per request (one read of the state engine: a dict look-up in memory, one
round trip on Redis), and each background job enters its client's clock when
it starts. The clock entered is kept in a context variable, so it is the
request's or the job's own (asyncio gives each task a copy of the context) and
nothing is cached across requests: every worker sees a move at once.

The clock is moved through ``freeze``, ``advance`` and ``resume``
(``/_sandbox/clock``). A move wakes the client's jobs waiting for time
(``ClockStore.wake``): each looks at its due time again on the new clock, so
whatever fell due during an advance happens at once, in the order it was due.
An advance past the end of the client's rate-limit window starts a new one
(``RateLimiter.forget``, called by the handler).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from pin_mock.server.errors import InvalidRequest
from pin_mock.server.state.clock_port import REAL, ClockState, ClockStore

#: The longest single advance (seconds): a year, far past any schedule of the sandbox.
MAX_ADVANCE = 366 * 86_400
#: A client's clock stays within these years (dates the API can write, and the seeded data's era).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()

_ENTERED: ContextVar[ClockState] = ContextVar("pin_mock_client_clock", default=REAL)


class ClientClocks:
    """The clients' clocks over the engine's ``ClockStore``; ``real`` is the sandbox's clock."""

    def __init__(self, store: ClockStore, real: Callable[[], float] = time.time) -> None:
        self.store = store
        self.real = real
        # Sleepers on a client's running clock, woken early by a move: made in this
        # process, or announced by another worker (``on_moves``).
        self._moves: dict[str, asyncio.Event] = {}
        store.on_moves(self._heard)

    # -- reading: the clock of the request or job under way ----------------------

    def now(self) -> float:
        """The time on the clock entered by this request or job (the real one if none)."""
        return _ENTERED.get().now(self.real())

    def offset(self) -> float:
        """How far the entered clock is from the real one (0.0 for an untouched clock)."""
        state = _ENTERED.get()
        return 0.0 if not state.moved else state.now(self.real()) - self.real()

    def entered(self) -> ClockState:
        return _ENTERED.get()

    async def enter(self, client_id: str) -> ClockState:
        """Read the client's clock and make it this request's or job's."""
        state = await self.store.read(client_id)
        _ENTERED.set(state)
        return state

    def enter_real(self) -> None:
        """No client: the real clock (a request without a valid token)."""
        _ENTERED.set(REAL)

    # -- moving: the client's own controls ---------------------------------------

    async def freeze(self, client_id: str, at: float | None = None) -> ClockState:
        if at is not None:
            _check_range(at)
        return await self._moved(client_id, await self.store.freeze(client_id, at, self.real()))

    async def advance(self, client_id: str, seconds: float) -> ClockState:
        if not (0 < seconds <= MAX_ADVANCE) or not math.isfinite(seconds):
            raise InvalidRequest(
                f"seconds must be more than 0 and at most {MAX_ADVANCE} (366 days).",
                {"field": "seconds"},
            )
        _check_range((await self.store.read(client_id)).now(self.real()) + seconds)
        state = await self.store.advance(client_id, seconds, self.real())
        return await self._moved(client_id, state)

    async def resume(self, client_id: str) -> ClockState:
        return await self._moved(client_id, await self.store.resume(client_id, self.real()))

    async def reset(self, client_id: str) -> None:
        """The client's sandbox was reset, clock included: the real clock from now on."""
        await self.store.dropped(client_id)
        await self._moved(client_id, REAL)

    async def _moved(self, client_id: str, state: ClockState) -> ClockState:
        _ENTERED.set(state)
        self._heard(client_id)
        await self.store.wake(client_id)
        return state

    def _heard(self, client_id: str) -> None:
        moved = self._moves.pop(client_id, None)
        if moved is not None:
            moved.set()

    async def sleep(self, client_id: str, seconds: float) -> None:
        """Wait ``seconds`` of real time, less if the client's clock is moved meanwhile
        (by this worker or, on Redis, by another: its move is announced to all)."""
        moved = self._moves.setdefault(client_id, asyncio.Event())
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns normally when it
        # is cancelled just as the event is set, and the cancelled job would run on
        # (tests/server/domain/test_client_clocks.py; the same race in redis-py:
        # state/stopping.py).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await moved.wait()

    def view(self, client_id: str, state: ClockState) -> dict[str, object]:
        """The clock as ``GET /_sandbox/clock`` shows it."""
        real = self.real()
        now = state.now(real)
        return {
            "client_id": client_id,
            "now": _iso(now),
            "frozen": state.frozen,
            "offset_seconds": round(now - real, 3),
        }


def _iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _check_range(moment: float) -> None:
    if not EARLIEST <= moment < LATEST:
        raise InvalidRequest(
            "The clock must stay between 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z.",
            {"earliest": "2000-01-01T00:00:00Z", "latest": "2100-01-01T00:00:00Z"},
        )
