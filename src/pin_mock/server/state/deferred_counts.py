"""A request's rate-limit count that may ride on the request's first state call.

On Redis each round trip costs more than the rest of a simple request, so a
``/v1`` request's count should not be a trip of its own. ``defer`` registers
the count for the calling task; the engine sends it with the first state call
that task makes (one script or pipeline: the count, then the call, which runs
only if the count allowed it), or on its own when ``result`` is asked before
any call. In memory there is no trip to save: ``defer`` counts at once.

The rule that keeps it safe: nothing is written for a request until its count
is known. A write the engine cannot take the count along with waits for it
first, and a refused count raises the limiter's ``refusal`` from the call it
rode on, so a refused request changes nothing. Only the task that deferred the
count (the request's own) carries or waits for it; work the request hands to
another task (a shared computation) never sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem

from pin_mock.server.state.counters_port import Counters

#: What a count says: ``(allowed, reset_at, remaining after it)`` (``Counters.count``).
Count = tuple[bool, float, int]
#: Builds the exception a refused count raises in the call it rode on.
Refusal = Callable[[Count], Exception]


class DeferredCount(Protocol):
    """One request's count, sent now or with the request's first state call."""

    def known(self) -> Count | None:
        """The count if it is already made (always in memory), else None."""
        ...

    async def result(self) -> Count:
        """The count; sent on its own if no call has carried it yet. Raises what the
        trip that carried it raised (a lost Redis)."""
        ...


@dataclass(frozen=True)
class Counted:
    """A count already made (the memory engine counts at once)."""

    count: Count

    def known(self) -> Count | None:
        return self.count

    async def result(self) -> Count:
        return self.count


class DeferringCounters(Counters, Protocol):
    """``Counters`` whose count can ride on the request's first state call."""

    async def defer(self, item: RateLimitItem, key: str, refusal: Refusal) -> DeferredCount:
        """Count one for ``key`` now or with this task's next state call (see the module)."""
        ...

    async def forget(self, item: RateLimitItem, key: str) -> None:
        """End ``key``'s window now (its client's clock was advanced past its end)."""
        ...
