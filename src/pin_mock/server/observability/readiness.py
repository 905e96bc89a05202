"""``/readyz``: may a load balancer send this process traffic now?

Ready when all four hold:

- ``state``: the state engine answers a small write (``EngineHealth.check``)
  within ``PROBE_TIMEOUT``: a lost, frozen, read-only or full Redis is not ready,
  and the answer comes in well under a second either way;
- ``workers``: the app's lifespan started the background workers (reports,
  deliveries, expiry) and has not begun stopping them: a process shutting down
  stops being ready first, so the balancer drains it;
- ``seed``: the seeded data and its analytics were built (``Services.warm``);
- ``processes``: every worker process of this server (``--workers N``) has
  started (``roll.py``): a balancer or a load test that starts on the first
  one's answer would pile its keep-alive connections on it.

The outcome is kept for ``CACHE_TTL`` seconds and concurrent probes share one
check, so a flood of probes costs one Redis write per worker per period.
``/healthz`` asks nothing: the process answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from pin_mock.server.observability.roll import ProcessRoll
from pin_mock.server.state.health_port import EngineHealth

#: The longest the state check may take before the engine counts as unreachable.
PROBE_TIMEOUT = 0.5
#: How long one check's outcome answers later probes.
CACHE_TTL = 0.5
OK = "ok"


class Readiness:
    """Whether this process is ready; ``seeded`` is set by the app, ``begin``/``end``
    by its lifespan."""

    def __init__(
        self,
        health: EngineHealth,
        *,
        roll: ProcessRoll | None = None,
        timeout: float = PROBE_TIMEOUT,
        ttl: float = CACHE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.health = health
        self.roll = roll if roll is not None else ProcessRoll(None, 1)
        self.timeout = timeout
        self.ttl = ttl
        self.clock = clock
        self.started = False
        self.seeded = False
        self._state: tuple[float, str] | None = None
        self._inflight: asyncio.Future[str] | None = None

    def begin(self) -> None:
        """The background workers run: this process serves."""
        self.started = True
        self.roll.join()

    def end(self) -> None:
        """This process begins to stop: not ready from now on (a balancer drains it)."""
        self.started = False
        self.roll.leave()

    async def checks(self) -> dict[str, str]:
        """Each condition: ``ok`` or why not (one line)."""
        missing, expected = self.roll.missing(), self.roll.expected
        return {
            "state": await self.state(),
            "workers": OK if self.started else "the background workers are not running",
            "seed": OK if self.seeded else "the seeded data is not built yet",
            "processes": OK
            if not missing
            else f"{expected - missing} of {expected} worker processes have started",
        }

    async def state(self) -> str:
        """``ok`` if the state engine took a write just now, else why not."""
        now = self.clock()
        if self._state is not None and now - self._state[0] < self.ttl:
            return self._state[1]
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._probe())
        inflight = self._inflight
        try:
            outcome = await asyncio.shield(inflight)
        finally:
            if self._inflight is inflight and inflight.done():
                self._inflight = None
        self._state = (self.clock(), outcome)
        return outcome

    async def _probe(self) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                await self.health.check()
        except TimeoutError:
            return f"the state engine did not answer within {self.timeout:g} s"
        except Exception as exc:  # the engine's own error: lost, read-only, full
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return f"the state engine is unusable: {reason}"
        return OK
