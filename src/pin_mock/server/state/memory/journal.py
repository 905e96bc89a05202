"""The request journal in this process: a bounded deque per client, in an LRU of clients.

``append`` keeps an entry at once (no await, so a request's exchange is in the
journal before the next request of its connection is read), unformatted: it is
formatted the first time it is read; followers waiting in ``wait`` are woken
by an event per client.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from typing import Any

from pin_mock.server.state.journal_port import Entry, JournalLimits, id_key


class MemoryJournal:
    """The ``JournalStore`` port in this process."""

    def __init__(self, limits: JournalLimits) -> None:
        self.limits = limits
        # Each entry: [id key, the entry, its dict once formatted].
        self._journals: OrderedDict[str, deque[list[Any]]] = OrderedDict()
        self._last: dict[str, tuple[int, int]] = {}
        self._events: dict[str, asyncio.Event] = {}

    def append(self, client_id: str, entry: Entry) -> None:
        journal = self._journals.get(client_id)
        if journal is None:
            journal = self._journals[client_id] = deque(maxlen=self.limits.size)
            while len(self._journals) > self.limits.clients:  # the overall bound
                dropped, _ = self._journals.popitem(last=False)
                self._last.pop(dropped, None)
        else:
            self._journals.move_to_end(client_id)
        millis = int(time.time() * 1000)
        last_millis, last_sequence = self._last.get(client_id, (0, 0))
        key = (millis, 0) if millis > last_millis else (last_millis, last_sequence + 1)
        self._last[client_id] = key
        journal.append([key, entry, None])
        event = self._events.pop(client_id, None)
        if event is not None:
            event.set()

    async def flush(self) -> None:
        """Nothing is kept back in memory."""

    async def entries(self, client_id: str, after: str | None = None) -> list[dict[str, Any]]:
        start = id_key(after) if after is not None else (-1, -1)
        shown = []
        for kept in self._journals.get(client_id, ()):
            if kept[0] > start:
                if kept[2] is None:  # formatted once, on its first read
                    kept[2] = {"id": f"{kept[0][0]}-{kept[0][1]}", **kept[1].as_dict()}
                shown.append(kept[2])
        return shown

    async def wait(self, client_id: str, timeout: float) -> None:
        event = self._events.get(client_id)
        if event is None:
            event = self._events[client_id] = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):  # (not wait_for: it can swallow a cancel)
                await event.wait()
        except TimeoutError:
            pass

    async def clear(self, client_id: str) -> None:
        self._journals.pop(client_id, None)

    async def aclose(self) -> None:
        """Nothing to write: the journal goes with the process."""
