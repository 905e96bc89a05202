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

There is one batch under way at a time, so the batches have a connection of their
own (made with the pool's options: timeouts, health checks), written and read
directly: no pool to take a connection from and give it back to, no per-command
wrapper (a lone call, a test suite's usual request, costs about 100 µs less CPU).

Nothing changes for a call but how it travels: each script still runs alone and
atomically in Redis, in the order the calls were made; its error is its own
(``NOSCRIPT`` after a Redis restart: the scripts are loaded and those calls sent
again before the next batch); a lost connection is made again and the batch sent
once more, as the pool's one retry did (``engine.py``), and if that fails too every
call of the batch fails with it; a call whose request was cancelled still runs if
its batch was sent, as a sent command always did.
A call waits for a lane at most ``timeout`` (the engine's socket timeout): behind
a batch that a hung Redis never answers it gives up unsent (``TimeoutError``, a
503 that changed nothing), so a request meets at most about one timeout, not two.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from hiredis import pack_command
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as ConnectionLost
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeout

if TYPE_CHECKING:
    from redis.asyncio.connection import AbstractConnection
    from redis.commands.core import AsyncScript

#: Batches under way at once per worker. One measured best: the calls that wait behind
#: it gather into the next batch (2 and more sent smaller batches, for more CPU).
LANES = 1
#: How long a call waits for a lane, unless told (the engine gives its socket timeout).
WAIT_TIMEOUT = 5.0
_Call = tuple["AsyncScript", list[Any], list[Any], "asyncio.Future[Any]"]


class ScriptBatches:
    """Runs ``AsyncScript`` calls, batching the ones that wait together (see the module)."""

    def __init__(self, redis: Redis, timeout: float = WAIT_TIMEOUT) -> None:
        # A plain client on the engine's pool, to register scripts on (counters.py).
        self.redis = Redis(connection_pool=redis.connection_pool)
        self.timeout = timeout
        self.sent = 0  #: batches sent (more than one call each), for the tests
        self._busy = False
        self._waiting: list[_Call] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # The lane's own connection, made with the pool's options (timeouts, one retry,
        # health checks) and used by one batch at a time: no pool to take it from and
        # give it back to per call (see the module's doc).
        self._connection: AbstractConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        """``script(keys, args)``'s answer, sent alone or with the calls waiting with it."""
        if self._busy:
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
        self._busy = True
        try:
            answer = (await self._exchange([(script, keys, args)]))[0]
        finally:
            self._busy = False
            self._next()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _next(self) -> None:
        """The lane is free: everything waiting goes, as one batch."""
        if not self._waiting or self._busy:
            return
        batch, self._waiting = self._waiting, []
        self._busy = True
        task = asyncio.ensure_future(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            if len(batch) > 1:
                self.sent += 1
            answers = await self._exchange([call[:3] for call in batch])
        except BaseException as exc:
            for *_, future in batch:
                _fail(future, exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._busy = False
            self._next()
        for (*_, future), answer in zip(batch, answers, strict=True):
            if future.done():  # its request was cancelled meanwhile
                continue
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)

    async def _exchange(self, calls: list[tuple[AsyncScript, list[Any], list[Any]]]) -> list[Any]:
        """Each call's answer or error, in order; scripts Redis forgot (a restart, ``SCRIPT
        FLUSH``) loaded and those calls sent again, on the lane, before anything else."""
        answers = await self._round_trip(
            [("EVALSHA", script.sha, len(keys), *keys, *args) for script, keys, args in calls]
        )
        forgot = [i for i, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
        if forgot:
            scripts = {calls[i][0].sha: calls[i][0].script for i in forgot}
            loads = [("SCRIPT", "LOAD", source) for source in scripts.values()]
            again = [
                ("EVALSHA", calls[i][0].sha, len(calls[i][1]), *calls[i][1], *calls[i][2])
                for i in forgot
            ]
            resent = (await self._round_trip(loads + again))[len(loads) :]
            for i, answer in zip(forgot, resent, strict=True):
                answers[i] = answer
        return answers

    async def _round_trip(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """``commands`` written at once on the lane's connection; their answers in order
        (an error reply is that command's answer). A connection that broke is made
        again and everything sent once more, as the pool's retry would (``engine.py``)."""
        connection = self._lane_connection()
        # hiredis packs a command in C, to the same bytes (a create's: 22 -> 3 µs).
        packed = b"".join([pack_command(command) for command in commands])
        try:
            return await self._write_read(connection, packed, len(commands))
        except ConnectionLost:
            await connection.disconnect()
            return await self._write_read(connection, packed, len(commands))

    @staticmethod
    async def _write_read(connection: AbstractConnection, packed: bytes, n: int) -> list[Any]:
        await connection.send_packed_command(packed)
        answers: list[Any] = []
        for _ in range(n):
            try:
                answers.append(await connection.read_response())
            except ResponseError as error:  # the reply of this command; the others follow
                answers.append(error)
        return answers

    def _lane_connection(self) -> AbstractConnection:
        loop = asyncio.get_running_loop()
        if self._connection is None or self._loop is not loop:
            # A new event loop (a test's asyncio.run): the old one's streams are dead.
            self._connection = self.redis.connection_pool.make_connection()
            self._loop = loop
        return self._connection

    async def aclose(self) -> None:
        """Close the lane's connection (the engine's ``close``)."""
        connection, self._connection = self._connection, None
        if connection is not None and self._loop is asyncio.get_running_loop():
            await connection.disconnect()  # (another loop's streams died with it)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
