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
A batch has ``timeout`` (the engine's socket timeout) for its whole round trip, one
deadline rather than redis-py's per write and per answer. When a hung Redis lets it
pass, its calls fail (``TimeoutError``: 503; Redis may still run them later, as any
sent command) and the calls waiting behind it give up at once, unsent (a 503 that
changed nothing); a waiting call also gives up unsent after ``timeout`` of its own.
A request meets at most about one timeout, not two.
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

#: How long a call waits for a lane, unless told (the engine gives its socket timeout).
WAIT_TIMEOUT = 5.0


class _Call:
    """A call waiting for the lane: its script, keys and args, its answer to come, and
    whether it went (a call that gave up unsent changed nothing in Redis)."""

    __slots__ = ("script", "keys", "args", "answer", "sent")

    def __init__(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> None:
        self.script, self.keys, self.args = script, keys, args
        self.answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.sent = False


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
        # One batch under way at a time (one lane measured best: 2 and more lanes sent
        # smaller batches, for more CPU), so one connection of its own, made with the
        # pool's options (connect timeout, health checks) but no socket timeout: the round
        # trip has one deadline (``_round_trip``); no pool to take it from per call.
        self._connection: AbstractConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Any:
        """``script(keys, args)``'s answer, sent alone or with the calls waiting with it."""
        if self._busy:
            call = _Call(script, keys, args)
            self._waiting.append(call)
            try:
                async with asyncio.timeout(self.timeout):
                    return await call.answer
            except TimeoutError:
                if not call.sent:
                    self._waiting = [waiting for waiting in self._waiting if waiting is not call]
                raise RedisTimeout(
                    f"Redis did not answer within {self.timeout:g} s"
                    + ("" if call.sent else " (this call was not sent)")
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
        for call in batch:
            call.sent = True
        self._busy = True
        task = asyncio.ensure_future(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            if len(batch) > 1:
                self.sent += 1
            answers = await self._exchange([(c.script, c.keys, c.args) for c in batch])
        except BaseException as exc:
            for call in batch:
                _fail(call.answer, exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._busy = False
            self._next()
        for call, answer in zip(batch, answers, strict=True):
            if call.answer.done():  # its request was cancelled meanwhile
                continue
            if isinstance(answer, Exception):
                call.answer.set_exception(answer)
            else:
                call.answer.set_result(answer)

    async def _exchange(self, calls: list[tuple[AsyncScript, list[Any], list[Any]]]) -> list[Any]:
        """Each call's answer or error, in order; scripts Redis forgot (a restart, ``SCRIPT
        FLUSH``) loaded and those calls sent again, on the lane, before anything else."""
        answers = await self._round_trip([_evalsha(*call) for call in calls])
        forgot = [i for i, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
        if forgot:
            scripts = {calls[i][0].sha: calls[i][0].script for i in forgot}
            loads = [("SCRIPT", "LOAD", source) for source in scripts.values()]
            again = [_evalsha(*calls[i]) for i in forgot]
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
            # One deadline for the round trip, not redis-py's per write (a task each, on
            # Python 3.11) and per answer read: the connection is made without its own.
            async with asyncio.timeout(self.timeout):
                try:
                    return await self._write_read(connection, packed, len(commands))
                except ConnectionLost:
                    await connection.disconnect()
                    return await self._write_read(connection, packed, len(commands))
        except TimeoutError:
            self._give_up_waiting()
            await connection.disconnect()  # an answer may still come: never read it as another's
            raise RedisTimeout(f"Redis did not answer within {self.timeout:g} s") from None

    def _give_up_waiting(self) -> None:
        """Redis did not answer in time: the calls waiting for the lane give up unsent (a
        503 that changed nothing) rather than go to a Redis that does not answer."""
        waiting, self._waiting = self._waiting, []
        for call in waiting:
            _fail(
                call.answer,
                RedisTimeout(
                    f"Redis did not answer within {self.timeout:g} s (this call was not sent)"
                ),
            )

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
            pool = self.redis.connection_pool
            options = {**pool.connection_kwargs, "socket_timeout": None}  # (_round_trip's)
            self._connection = pool.connection_class(**options)
            self._loop = loop
        return self._connection

    async def aclose(self) -> None:
        """Close the lane's connection (the engine's ``close``)."""
        connection, self._connection = self._connection, None
        if connection is not None and self._loop is asyncio.get_running_loop():
            await connection.disconnect()  # (another loop's streams died with it)


def _evalsha(script: AsyncScript, keys: list[Any], args: list[Any]) -> tuple[Any, ...]:
    return ("EVALSHA", script.sha, len(keys), *keys, *args)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)
