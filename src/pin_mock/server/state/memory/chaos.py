"""``MemoryChaos``: the ``ChaosSettings`` port in this process (one worker)."""

from __future__ import annotations

import itertools
from typing import Any

from pin_mock.server.state.chaos_port import StoredChaos


class MemoryChaos:
    """Settings and counts in a dict; a setting is one entry per client (bounded by clients)."""

    def __init__(self) -> None:
        self._settings: dict[str, StoredChaos] = {}
        self._versions = itertools.count(1)

    def surely_off(self, client_id: str) -> bool:
        return client_id not in self._settings

    async def current(self, client_id: str, *, fresh: bool = False) -> StoredChaos | None:
        return self._settings.get(client_id)

    async def replace(self, client_id: str, setting: dict[str, Any] | None) -> None:
        if setting is None:
            self._settings.pop(client_id, None)
        else:
            self._settings[client_id] = StoredChaos(dict(setting), str(next(self._versions)))

    async def draw(self, client_id: str, version: str) -> int | None:
        stored = self._settings.get(client_id)
        if stored is None or stored.version != version:
            return None
        # No await between the read and the write: one atomic step in this process.
        self._settings[client_id] = stored = StoredChaos(
            stored.setting, version, stored.requests + 1
        )
        return stored.requests
