"""One round trip per request: a ``/v1`` request's rate-limit count rides on its first call.

``RedisCounters.defer`` (``counters.py``) registers the count for the calling
task (``state/deferred_counts.py`` has the contract). The engine's hot calls
(a page, a search, a patient and its entries, a version, the webhooks an event
goes to, every create) run through ``Trips.script``: with a count pending for
this task, the script runs as ``then(LIMIT, script)``, one Lua script that
counts and, only if the count allows it, runs the call (sent together with
the worker's other calls of the moment: ``batches.py``). Any other command of
the engine's client (``CountingRedis``), a pipeline included, first sends the
count on its own and waits for it (a write never runs before its request's
count is known); a refused count raises the limiter's refusal there.

Only the task that deferred the count sees it: a task the request starts (a
computation shared by several requests) copies the context, but carries and
waits for nothing. The compiled scripts are registered once per process and
re-sent by redis-py if Redis forgot them (``NOSCRIPT`` after a restart).
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from pin_mock.server.state.deferred_counts import Count, Refusal
from pin_mock.server.state.redis.batches import WAIT_TIMEOUT, ScriptBatches
from pin_mock.server.state.redis.tenant_scripts import then

if TYPE_CHECKING:
    from collections.abc import Callable

    from redis.commands.core import AsyncScript

# A fixed window as ``limits`` keeps it (INCRBY, EXPIRE when the window opens: its
# ``get_window_stats`` and ``clear`` read the same key), with the time left in it.
# KEYS: the counter; ARGV: window seconds, limit.  -> {1 allowed | 0 refused, count, ms left}
LIMIT = """
local count = redis.call('INCRBY', KEYS[1], 1)
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1]) * 1000
end
if count > tonumber(ARGV[2]) then return {0, count, left} end
return {1, count, left}
"""

_UNSENT, _SENT, _DONE = 0, 1, 2
_PENDING: ContextVar[Pending | None] = ContextVar("pin_mock_pending_count", default=None)


class Pending:
    """One request's count: unsent, sent (riding on a call), or done."""

    __slots__ = ("name", "args", "read", "refusal", "owner", "state", "count", "error", "send")

    def __init__(
        self,
        name: str,
        args: list[int],
        read: Callable[[list[Any]], Count],
        refusal: Refusal,
        send: Callable[[str, list[int]], Any],
    ) -> None:
        self.name, self.args, self.read, self.refusal, self.send = name, args, read, refusal, send
        self.owner = asyncio.current_task()
        self.state = _UNSENT
        self.count: Count | None = None
        self.error: BaseException | None = None

    def mine(self) -> bool:
        return self.owner is not None and asyncio.current_task() is self.owner

    def answer(self, raw: list[Any]) -> None:
        """The count came back (``LIMIT``'s answer); raise the refusal if it refused."""
        self.state, self.count = _DONE, self.read(raw)
        if not self.count[0]:
            raise self.refusal(self.count)

    def fail(self, exc: BaseException) -> None:
        self.state, self.error = _DONE, exc

    def known(self) -> Count | None:
        return self.count if self.state == _DONE else None

    async def result(self) -> Count:
        if self.state == _UNSENT:
            await self._alone()
        if self.error is not None:
            raise self.error
        if self.count is None:  # sent, never answered (its call was cancelled)
            raise ConnectionError("the rate-limit count was not answered")
        return self.count

    async def _alone(self) -> None:
        self.state = _SENT
        try:
            raw = await self.send(self.name, self.args)
        except BaseException as exc:
            self.fail(exc)
            raise
        self.state, self.count = _DONE, self.read(raw)


def defer(pending: Pending) -> Pending:
    """Make ``pending`` the calling task's count (``RedisCounters.defer``)."""
    _PENDING.set(pending)
    return pending


def _take() -> Pending | None:
    """This task's count if it is still unsent, marked sent (the caller carries it)."""
    pending = _PENDING.get()
    if pending is None or pending.state != _UNSENT or not pending.mine():
        return None
    pending.state = _SENT
    return pending


async def settle() -> None:
    """Before a call that cannot carry the count: send it alone, and refuse if it refused."""
    pending = _PENDING.get()
    if pending is None or pending.state == _SENT or not pending.mine():
        return
    count = await pending.result()
    if not count[0]:
        raise pending.refusal(count)


class CountingPipeline(Pipeline):
    """A pipeline that waits for its task's count before it runs (see the module)."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        await settle()
        return await super().execute(raise_on_error)


class CountingRedis(Redis):
    """The engine's client: every command waits for its task's count (see the module)."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        await settle()
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return CountingPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )


class Trips:
    """Runs Lua scripts so that a pending count rides along (one script, one trip)."""

    def __init__(self, redis: Redis, timeout: float = WAIT_TIMEOUT) -> None:
        self.redis = redis
        self.batches = ScriptBatches(redis, timeout)
        self._scripts: dict[str, AsyncScript] = {}
        self._counted: dict[str, AsyncScript] = {}

    def _script(self, source: str) -> AsyncScript:
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.redis.register_script(source)
        return script

    async def script(self, source: str, keys: list[Any], args: list[Any]) -> Any:
        """Run ``source`` with ``keys`` and ``args``; this task's count, if pending, first
        in the same script (the call runs only if the count allowed it)."""
        pending = _take()
        if pending is None:
            return await self.batches.run(self._script(source), keys, args)
        counted = self._counted.get(source)
        if counted is None:
            counted = self._counted[source] = self.redis.register_script(then(LIMIT, source))
        try:
            out = await self.batches.run(
                counted, [pending.name, *keys], [1, len(pending.args), *pending.args, *args]
            )
        except BaseException as exc:
            pending.fail(exc)
            raise
        pending.answer(out[0])  # raises the refusal: the call did not run
        return out[1] if len(out) > 1 else None
