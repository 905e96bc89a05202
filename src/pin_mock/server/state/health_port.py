"""The engine's health port: is the state engine usable now, and how much work waits.

``/readyz`` asks ``check`` (``observability/readiness.py``) and ``/metrics`` asks
``depths`` (``observability/exposition.py``); both engines implement it
(``memory/health.py``, ``redis/health.py``), and nothing else learns which
engine answered.
"""

from __future__ import annotations

from typing import Protocol

from pin_mock.server.state.ports import StateEngine


class EngineHealth(Protocol):
    """Reachable, writable, and the queues' depths."""

    async def check(self) -> None:
        """Return if the engine can be read and written now; raise the engine's error if not.

        One small write that expires by itself: a read-only replica or a full Redis
        (``noeviction``) is as unusable as a lost one.
        """
        ...

    async def depths(self) -> dict[tuple[str, str], int]:
        """Jobs per ``(queue, state)``: ``state`` is ``queued`` (waiting or running) or
        ``scheduled`` (a retry waiting for its time)."""
        ...


class MonitoredEngine(StateEngine, Protocol):
    """A state engine with its health port (what ``state/engine.open_state`` returns)."""

    health: EngineHealth
