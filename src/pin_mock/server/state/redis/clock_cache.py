"""Clients' clocks as this worker last read them, told of every move by Redis pub/sub.

Every authenticated request needs its client's clock (its token expires on it),
and a Redis round trip per request costs as much as a third of a simple read's
time, so each worker keeps the clocks it read. A move (``clocks.py``) is
published on a channel of the database; each worker's listener drops the
client's entry and acknowledges (``INCR`` of the move's ack key); the move
waits for as many acknowledgements as ``PUBLISH`` counted listeners (at most
``ACK_WAIT`` seconds) before it answers, so the next request, on whichever
worker, reads the moved clock. The cache is used only while the subscription
is live (until then, and after any error, every read goes to Redis and the
cache is emptied); an entry lives at most ``MAX_AGE`` seconds, for what changes
a clock without a move (an idle sandbox's expiry); a read that raced a move is
not kept (a generation per client).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pin_mock.server.state.clock_port import ClockState

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("pin_mock.queues")

#: The longest a move waits for the workers' acknowledgements (a stalled worker's).
ACK_WAIT = 1.0
#: The longest an entry is used without a move being heard.
MAX_AGE = 30.0
#: Seconds before listening again after the subscription failed.
BACKOFF = 0.5
_ENTRIES_MAX = 100_000


class ClockCache:
    """Clocks read through ``load``, kept while ``channel``'s subscription is live."""

    def __init__(
        self, redis: Redis, channel: str, load: Callable[[str], Awaitable[ClockState]]
    ) -> None:
        self.redis = redis
        self.channel = channel
        self.load = load
        self.live = False
        self._entries: dict[str, tuple[ClockState, float]] = {}
        self._generation: dict[str, int] = {}
        self._listener: asyncio.Task[None] | None = None
        self._closing = False
        #: Told of each move another worker announced (``ClockStore.on_moves``).
        self.heard: Callable[[str], None] = lambda _client_id: None

    async def read(self, client_id: str) -> ClockState:
        if self._listener is None or self._listener.done():
            # None yet, or it ended with the event loop that ran it (a tool running several
            # loops): listen again from this one, with nothing kept from before.
            self.live = False
            self._entries.clear()
            # A context of its own: nothing of the request that happened to start it
            # (its clock, its deferred rate-limit count) rides along.
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(), name=f"{self.channel} listener", context=contextvars.Context()
            )
        if self.live:
            entry = self._entries.get(client_id)
            if entry is not None and time.monotonic() - entry[1] < MAX_AGE:
                return entry[0]
        generation = self._generation.get(client_id, 0)
        state = await self.load(client_id)
        if self.live and self._generation.get(client_id, 0) == generation:
            if len(self._entries) >= _ENTRIES_MAX:
                self._entries.clear()
            self._entries[client_id] = (state, time.monotonic())
        return state

    async def moved(self, client_id: str) -> None:
        """Tell every worker ``client_id``'s clock moved; wait until they heard (bounded)."""
        self._drop(client_id)
        ack = f"{self.channel}:ack:{secrets.token_hex(8)}"
        listeners = int(await self.redis.publish(self.channel, f"{client_id}\n{ack}"))
        deadline = time.monotonic() + ACK_WAIT
        try:
            while listeners and time.monotonic() < deadline:
                if int(await self.redis.get(ack) or 0) >= listeners:
                    return
                await asyncio.sleep(0.002)
            if listeners:
                logger.warning("clock of %s: a worker did not hear the move in time", client_id)
        finally:
            await self.redis.delete(ack)

    def _drop(self, client_id: str) -> None:
        self._entries.pop(client_id, None)
        self._generation[client_id] = self._generation.get(client_id, 0) + 1
        if len(self._generation) >= _ENTRIES_MAX:
            self._generation.clear()  # an old read then finds generation 0: not kept
            self._entries.clear()

    async def _listen(self) -> None:
        # A flag as well as the cancellation: redis-py's read timeout can swallow a cancel
        # that lands as it fires (the task then reads on, and a shutdown awaiting it hangs).
        while not self._closing:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while not self._closing:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.live = True
                    elif message["type"] == "message":
                        client_id, _, ack = message["data"].decode().partition("\n")
                        self._drop(client_id)
                        self.heard(client_id)  # its sleepers wake and read the moved clock
                        await self.redis.incr(ack)
                        await self.redis.expire(ack, 60)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: read through until listening again
                if self.live:
                    logger.warning("clocks: not listening for moves (%s); reading each", exc)
                await asyncio.sleep(BACKOFF)
            finally:
                self.live = False
                self._entries.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def aclose(self) -> None:
        if self._listener is not None:
            self._closing = True
            self._listener.cancel()
            # Ends within a read timeout (1 s) even if the cancel was swallowed (_listen).
            await asyncio.wait({self._listener}, timeout=2 * BACKOFF + 2.0)
            self._listener = None
            self._closing = False
