"""Tenancy in memory: what one client created, invisible to every other client.

Every client sees the same seeded data (``domain/store.py``) plus its own
``Tenant``; resetting a client's sandbox drops its tenant whole. ``version``
changes on every write, so derived views (analytics) can be cached on it
(``Store.derived``). The tenant's created patients are indexed for search as
they are added (``search``, row ``n`` = the ``n``-th created patient), and its
entries are counted (``entry_count``) for the per-tenant quota. The memory
engine's ports (tenants, reports, webhooks) all read the one ``Tenants``
registry; on Redis the same data lives under ``pin:t:{client}:``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pin_mock.server.search_index import TrigramIndex
from pin_mock.server.state.clock_port import REAL, ClockState


@dataclass
class StoredReport:
    """A report: its view and, once completed, its file."""

    view: dict[str, Any]
    content: bytes | None = None


@dataclass
class Tenant:
    """What one client created, in creation order."""

    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reports: dict[str, StoredReport] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Each webhook's delivery log, oldest first.
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Pending deliveries: webhook id -> {member: attempt due}, oldest admitted first.
    pending: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The newest event bodies by event id, oldest first (``memory/event_archive.py``).
    events: dict[str, bytes] = field(default_factory=dict)
    # Lower-cased "id name" of each created patient, in creation order (``add_patient``).
    search: TrigramIndex = field(default_factory=TrigramIndex)
    entry_count: int = 0  # created clinical-data entries, over all patients
    version: int = 0  # changed on every write, so derived views can be cached
    clock: ClockState = REAL  # the client's clock (``memory/clocks.py``); a reset drops it

    def pending_count(self) -> int:
        return sum(len(members) for members in self.pending.values())


class Tenants:
    """The tenants of this process, by client id (created on first write)."""

    def __init__(self) -> None:
        self._tenants: dict[str, Tenant] = {}

    def get(self, client_id: str) -> Tenant:
        """The client's tenant, created on first use."""
        tenant = self._tenants.get(client_id)
        if tenant is None:
            tenant = self._tenants[client_id] = Tenant()
        return tenant

    def peek(self, client_id: str) -> Tenant | None:
        """The client's tenant if it has one (reads need not create it)."""
        return self._tenants.get(client_id)

    def pop(self, client_id: str) -> Tenant:
        """Remove and return the client's tenant (an empty one if it had none)."""
        return self._tenants.pop(client_id, None) or Tenant()
