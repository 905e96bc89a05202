"""``EventArchive`` in this process: an ordered dictionary in each client's ``Tenant``.

Kept in the tenant, so a reset (which drops the tenant) drops it too.
"""

from __future__ import annotations

from pin_mock.server.state.event_archive_port import MAX_EVENTS
from pin_mock.server.state.memory.tenant import Tenants


class MemoryEventArchive:
    """The newest ``MAX_EVENTS`` event bodies per client, oldest first."""

    def __init__(self, tenants: Tenants) -> None:
        self._tenants = tenants

    async def keep(self, client_id: str, event_id: str, body: bytes) -> None:
        kept = self._tenants.get(client_id).events
        kept[event_id] = body
        while len(kept) > MAX_EVENTS:
            del kept[next(iter(kept))]

    async def get(self, client_id: str, event_id: str) -> bytes | None:
        tenant = self._tenants.peek(client_id)
        return None if tenant is None else tenant.events.get(event_id)
