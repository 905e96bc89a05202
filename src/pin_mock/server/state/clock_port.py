"""The clock port: each client's own clock, and the jobs waiting for it.

A client's clock is the real clock plus an ``offset``, or ``frozen_at`` one
instant; ``version`` changes on every move, so a job that read the clock
before a move can tell (``ClockStore.later``). Both engines keep it with the
client's sandbox (memory: its tenant; Redis: ``pin:t:{client}:clock``), so a
reset puts the client back on the real clock and every worker reads the same
clock. Every engine has one as ``clocks`` (beside the ports of ``ports.py``).

Work that falls due on the client's clock (a report's next step, a webhook
retry) goes through ``later``: on a running clock it is scheduled on the
queue's real-time timer, ``due - now`` seconds ahead; on a frozen clock it is
*held* until the clock moves. ``wake`` (after every move) puts every held and
scheduled job of the client back on its queue at once, in the order of their
due times, and each job checks its due time again on the moved clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

#: The queues whose jobs wait for a client's clock (``StateEngine.report_jobs``, ``.deliveries``).
KINDS = ("reports", "deliveries")


@dataclass(frozen=True)
class ClockState:
    """One client's clock: ``real + offset``, or ``frozen_at`` when frozen."""

    offset: float = 0.0
    frozen_at: float | None = None
    version: int = 0

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def moved(self) -> bool:
        """False for a clock nobody touched (or reset): the real clock, as is."""
        return self.frozen_at is not None or self.offset != 0.0

    def now(self, real: float) -> float:
        """The client's time when the real clock reads ``real``."""
        return self.frozen_at if self.frozen_at is not None else real + self.offset

    def to_fields(self) -> dict[str, Any]:
        return {"offset": self.offset, "frozen_at": self.frozen_at, "version": self.version}


#: The clock of a client that never moved it.
REAL = ClockState()


class ClockStore(Protocol):
    """Each client's clock, and the jobs waiting for it to reach their due time.

    Every move is one atomic step (two workers advancing at once both count) and
    bumps ``version``.
    """

    async def read(self, client_id: str) -> ClockState: ...

    async def freeze(self, client_id: str, at: float | None, real: float) -> ClockState:
        """Stop the clock at ``at`` (None: where it reads now)."""
        ...

    async def advance(self, client_id: str, seconds: float, real: float) -> ClockState:
        """Move the clock ``seconds`` ahead (a frozen clock stays frozen there)."""
        ...

    async def resume(self, client_id: str, real: float) -> ClockState:
        """Let a frozen clock run again from where it stopped."""
        ...

    async def later(
        self,
        kind: str,
        job: dict[str, Any],
        ident: str,
        delay: float | None,
        seen: int,
    ) -> None:
        """Run ``job`` (queue ``kind``; ``ident`` names it among the client's jobs) in
        ``delay`` real seconds, or hold it until the clock moves (``delay`` None). If the
        clock's version is no longer ``seen``, it moved meanwhile: queue the job now."""
        ...

    async def dropped(self, client_id: str) -> None:
        """The client's sandbox was reset (``TenantState.reset`` removed its clock with the
        rest): every worker reads the real clock for it from now on."""
        ...

    async def wake(self, client_id: str) -> int:
        """Queue every held or scheduled job of the client now, by due time; how many."""
        ...

    def on_moves(self, heard: Callable[[str], None]) -> None:
        """Call ``heard(client_id)`` when another worker moved (or reset) a client's
        clock, once this worker reads the moved clock (never in memory: one process)."""
        ...
