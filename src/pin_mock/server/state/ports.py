"""The one interface to what clients created, whichever engine keeps it.

``Store`` (store.py) serves the seeded data itself and asks a ``TenantState``
for the rest: ``MemoryTenants`` (state/memory.py, this process) or
``RedisTenants`` (state/redis_tenants.py, shared). Every method is ``async``
and every write is all-or-nothing, its quota checked in the same atomic step
(so concurrent creates, on however many workers, cannot pass the last slot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Patient = dict[str, Any]
Entry = dict[str, Any]

#: ``add_entry`` outcomes besides a non-negative "stored" count.
QUOTA_FULL = "quota"
NO_PATIENT = "no-patient"


@dataclass(frozen=True)
class TenantData:
    """Everything one client created, for derived views (analytics); treat as read-only."""

    version: int
    #: Created patients by id, in creation order.
    patients: Mapping[str, Patient]
    #: Created entries by patient id (seeded or created patients), in creation order.
    entries: Mapping[str, list[Entry]]


@dataclass(frozen=True)
class WriteResult:
    """A create's outcome: ``stored``, or refused with ``reason`` and what the tenant holds."""

    stored: bool
    used: int
    reason: str = ""


@dataclass
class Then:
    """A second Lua script run in the same atomic step as a create, if the create stored.

    The Redis dispatcher queues an event's deliveries this way (webhooks/shared.py),
    so a resource and its event are written together or not at all. ``result`` is the
    script's answer once the write ran. The memory engine never receives one.
    """

    source: str
    keys: list[str]
    args: list[Any]
    result: Any = None


class TenantState(Protocol):
    """What clients created: patients, entries, their search index and counters."""

    async def page(self, client_id: str, start: int, count: int) -> tuple[list[Patient], int]:
        """Created patients ``[start:start+count]`` in creation order, and how many exist."""
        ...

    async def search(
        self, client_id: str, term: str, start: int, count: int
    ) -> tuple[list[Patient], int]:
        """Created patients whose search key holds ``term``: ``[start:start+count]``, total."""
        ...

    async def get_patient(self, client_id: str, patient_id: str) -> Patient | None:
        """A created patient, or None."""
        ...

    async def patient_and_entries(
        self, client_id: str, patient_id: str, *, seeded: bool
    ) -> tuple[Patient | None, list[Entry]]:
        """The created patient (None if ``seeded`` or unknown) and its created entries."""
        ...

    async def add_patient(
        self, client_id: str, patient: Patient, search_key: str, cap: int, then: Then | None = None
    ) -> WriteResult:
        """Store ``patient`` unless the tenant already holds ``cap`` patients (then ``then``)."""
        ...

    async def add_entry(
        self,
        client_id: str,
        entry: Entry,
        cap: int,
        *,
        seeded_patient: bool,
        then: Then | None = None,
    ) -> WriteResult:
        """Store ``entry`` unless ``cap`` entries are held or its patient is gone (``then``)."""
        ...

    async def version(self, client_id: str) -> int:
        """A number every write of the tenant changes (derived views are cached on it)."""
        ...

    async def data(self, client_id: str) -> TenantData:
        """Everything the tenant created (analytics)."""
        ...

    async def usage(self, client_id: str) -> dict[str, int]:
        """``{"patients": n, "entries": n}`` held now."""
        ...

    async def reset(self, client_id: str) -> dict[str, int]:
        """Drop the tenant's sandbox in one step; what it held (patients, clinical_data...)."""
        ...
