"""The ``ChaosSettings`` port: each client's chaos setting and its request count.

Kept apart from ``ports.py`` (one concept per module); the engine that
``open_state`` returns holds one (``MonitoredEngine.chaos``, ``health_port.py``).
The setting itself is plain JSON built and read by ``domain/chaos.py``; the
port stores it, counts the covered requests, and answers the question every
request asks ("has this client any chaos?") without a round trip to a shared
engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredChaos:
    """A client's stored setting, the version it was stored as, and its count so far."""

    setting: dict[str, Any]
    version: str  # new on every replace: a count belongs to one setting
    requests: int = 0  # covered requests counted (exact only on a ``fresh`` read)


class ChaosSettings(Protocol):
    """Per-client chaos settings (``/_sandbox/chaos``); one client never sees another's."""

    def surely_off(self, client_id: str) -> bool:
        """True when this process knows, without asking anyone, that the client has no
        chaos (within what ``current`` allows): every request asks, so it never waits."""
        ...

    async def current(self, client_id: str, *, fresh: bool = False) -> StoredChaos | None:
        """The client's setting, None without one.

        Asked on every request, so it may answer from this process's memory:
        never staler than ``replace`` allows (below). ``fresh``: read the engine
        (the count included).
        """
        ...

    async def replace(self, client_id: str, setting: dict[str, Any] | None) -> None:
        """Store ``setting`` (None: drop it), with a new version and a count of 0.

        When this returns, ``current`` answers the new setting in every worker
        and replica (read-your-writes across processes).
        """
        ...

    async def draw(self, client_id: str, version: str) -> int | None:
        """The next request number (1, 2, ...) of the setting ``version``, counted
        atomically across workers; None when the client's setting is no longer that one."""
        ...
