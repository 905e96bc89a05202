"""The request journal's port: each client's last exchanges, bounded, in either engine.

An entry is handed over already made safe (secrets redacted:
``domain/journal/``) but not yet formatted: an ``Entry``, whose ``as_dict`` the
engine calls when the entry is read (memory) or written (Redis, in batches),
so the request that made it pays only for the safety step. The engine keeps
it, numbers it and drops the oldest. Ids are opaque strings that grow with each entry of a
client (``"<milliseconds>-<sequence>"`` on both engines, as Redis streams write
them), so a follower asks for what came after the last id it saw.

Bounds, the same on both engines: at most ``size`` entries per client (the
oldest dropped on write) and at most ``clients`` clients' journals in all (the
least recently written dropped whole); on Redis each journal also expires
``ttl`` seconds after its last write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

#: What an entry id looks like on both engines.
ENTRY_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")


@dataclass(frozen=True)
class JournalLimits:
    """How much a journal may hold."""

    size: int = 100  # entries per client
    clients: int = 1_000  # clients' journals in all
    ttl: int = 7 * 86_400  # Redis: seconds a journal lives after its last write


def id_key(entry_id: str) -> tuple[int, int]:
    """An entry id as a pair that sorts like the ids do."""
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)


class Entry(Protocol):
    """An entry made safe; ``as_dict`` formats it (JSON-ready, without its ``id``)."""

    def as_dict(self) -> dict[str, Any]: ...


class JournalStore(Protocol):
    """Each client's last exchanges, oldest first."""

    def append(self, client_id: str, entry: Entry) -> None:
        """Keep ``entry`` (without an ``id``: the engine gives it one). Never waits:
        the memory engine keeps it at once; Redis keeps it in the worker until the
        client's journal is read, then writes it in a batch."""
        ...

    async def flush(self) -> None:
        """Write what ``append`` has kept back (Redis); nothing to do in memory."""
        ...

    async def entries(self, client_id: str, after: str | None = None) -> list[dict[str, Any]]:
        """The client's entries (each with its ``id``), oldest first; after ``after`` only."""
        ...

    async def wait(self, client_id: str, timeout: float) -> None:
        """Return when the client may have a new entry, or after ``timeout`` seconds."""
        ...

    async def clear(self, client_id: str) -> None:
        """Forget the client's journal."""
        ...

    async def aclose(self) -> None:
        """Write what is kept back and stop (the app's lifespan)."""
        ...
