"""Tenancy: what one client created, invisible to every other client (memory engine).

Every client sees the same seeded data (``store.Store``) plus its own tenant;
resetting a client's sandbox drops its tenant. ``version`` changes on every
write, so derived views (analytics) can be cached on it (``Store.derived``).
The tenant's created patients are indexed for search as they are added
(``search``, row ``n`` = the ``n``-th created patient), and its entries are
counted (``entry_count``) for the per-tenant quota (``quotas.py``). On the
Redis engine the same data lives in Redis (``state/redis_tenants.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pin_mock.server.search_index import TrigramIndex


@dataclass
class Tenant:
    """What one client created, in creation order."""

    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Lower-cased "id name" of each created patient, in creation order (``Store.add_patient``).
    search: TrigramIndex = field(default_factory=TrigramIndex)
    entry_count: int = 0  # created clinical-data entries, over all patients
    version: int = 0  # changed on every write, so derived views can be cached
