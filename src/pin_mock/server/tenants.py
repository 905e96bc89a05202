"""Tenancy: what one sandbox client created, invisible to every other client.

Every client sees the same seeded data (``store.Store``) plus its own tenant;
resetting a client's sandbox drops its tenant. Derived views (analytics) are
cached per tenant and keyed by ``version``, which every write bumps.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tenant:
    """What one client created, in creation order."""

    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reports: dict[str, Any] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    version: int = 0  # bumped on every write, so derived views can be cached
    # Derived views (analytics) of this tenant: key -> (version computed at, value).
    derived: dict[Hashable, tuple[int, Any]] = field(default_factory=dict)
