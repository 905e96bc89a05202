"""Concurrent scripts of one worker, sent to Redis together.

Every ``/v1`` request on Redis is one script call (``trips.py``), and so is a
token request's gate (``counters.py``). Under load a worker has several requests
at that point at once; each call alone pays redis-py's per-command path (a
pooled connection taken and given back, one write, one wake-up for its answer)
and Redis one read and one write for it. Here a call that finds no call under
way goes at once (no wait when a worker is idle); the calls that come while one
is under way wait for it to return and then go together, as one pipeline: one
connection, one write, the answers read in order. A worker of 16 connections
sends about one batch per round trip instead of one call per request (bench/README.md:
-20 to -30% of a worker's CPU per request, one Redis worker).

Nothing changes for a call but how it travels: each script still runs alone and
atomically in Redis, in the order the calls were made; its error is its own
(``NOSCRIPT`` after a Redis restart: the script is loaded and that call sent
again); a lost connection fails every call of its batch, as it would have failed
each of them (after the pool's one retry, ``engine.py``); a call whose request
was cancelled still runs if its batch was sent, as a sent command always did.
A call waits for a lane at most ``timeout`` (the engine's socket timeout): behind
a batch that a hung Redis never answers it gives up unsent (``TimeoutError``, a
503 that changed nothing), so a request meets at most about one timeout, not two.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeout

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

#: Batches under way at once per worker. One measured best: the calls that wait behind
#: it gather into the next batch (2 and more sent smaller batches, for more CPU).
LANES = 1
#: How long a call waits for a lane, unless told (the engine gives its socket timeout).
WAIT_TIMEOUT = 5.0
_Call = tuple["AsyncScript", list[Any], list[Any], "asyncio.Future[Any]"]


class ScriptBatches:
    """Runs ``AsyncScript`` calls, batching the ones that wait together (see the module)."""

    def __init__(self, redis: Redis, timeout: float = WAIT_TIMEOUT, lanes: int = LANES) -> None:
        # A plain client on the engine's pool: its pipelines wait for no count (trips.py).
        self.redis = Redis(connection_pool=redis.connection_pool)
        self.timeout = timeout
        self.lanes = lanes
        self.sent = 0  #: batches sent (more than one call each), for the tests
        self._busy = 0
        self._waiting: list[_Call] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        """``script(keys, args)``'s answer, sent alone or with the calls waiting with it."""
        if self._busy >= self.lanes:
            call = (script, keys, args, asyncio.get_running_loop().create_future())
            self._waiting.append(call)
            try:
                async with asyncio.timeout(self.timeout):
                    return await call[3]
            except TimeoutError:
                unsent = any(waiting is call for waiting in self._waiting)
                if unsent:
                    self._waiting = [waiting for waiting in self._waiting if waiting is not call]
                raise RedisTimeout(
                    f"Redis did not answer within {self.timeout:g} s"
                    + (" (this call was not sent)" if unsent else "")
                ) from None
        self._busy += 1
        try:
            return await script(keys=keys, args=args, client=self.redis)
        finally:
            self._busy -= 1
            self._next()

    def _next(self) -> None:
        """A lane is free: everything waiting goes, as one batch."""
        if not self._waiting or self._busy >= self.lanes:
            return
        batch, self._waiting = self._waiting, []
        self._busy += 1
        task = asyncio.ensure_future(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            if len(batch) == 1:
                script, keys, args, future = batch[0]
                answers: list[Any] = [await script(keys=keys, args=args, client=self.redis)]
            else:
                self.sent += 1
                pipe = self.redis.pipeline(transaction=False)
                for script, keys, args, _ in batch:
                    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
                answers = await pipe.execute(raise_on_error=False)
        except BaseException as exc:
            for *_, future in batch:
                _fail(future, exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._busy -= 1
            self._next()
        for (script, keys, args, future), answer in zip(batch, answers, strict=True):
            if future.done():  # its request was cancelled meanwhile
                continue
            if isinstance(answer, NoScriptError):  # Redis restarted: loaded, sent again
                self._busy += 1  # the retry takes a lane: nothing overtakes it
                task = asyncio.ensure_future(self._send([(script, keys, args, future)]))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
