"""Sandbox state: the seeded base data, shared and read-only, plus one tenant per client.

Every client sees the same seeded patients and clinical data, plus what it
created itself; nothing one client creates is visible to another. Resetting a
client's sandbox drops its tenant.

The seeded data is in this process (a pure function of the seed); what clients
created is behind ``tenants``, the engine's ``TenantState`` port
(``state/ports.py``). Handlers only see this class's ``async`` methods, the
same on both engines.
"""

from __future__ import annotations

import asyncio
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import pin_mock.server.domain.quotas as quotas
from pin_mock.server.domain.ids import IdFactory
from pin_mock.server.domain.seed.generator import SeedData
from pin_mock.server.errors import NotFound
from pin_mock.server.search_index import TrigramIndex, search_key
from pin_mock.server.settings import Settings
from pin_mock.server.state.ports import NO_PATIENT, EventDeliveries, TenantData, TenantState

__all__ = ["IdFactory", "Store", "search_key"]


class Store:
    """Seeded base data plus per-client tenants."""

    #: Derived views kept: per parameter set for the seeded data, per (client, parameters)
    #: for clients. Bounded, so a worker's memory does not grow with its clients.
    DERIVED_MAX = 256
    #: Seeded rows remembered per search term, at most this many in all (4 bytes each):
    #: the seeded data never changes, so a term's rows are valid for the process's life.
    SEEDED_ROWS_MAX = 1_000_000

    def __init__(
        self,
        seed: SeedData,
        ids: IdFactory,
        tenants: TenantState,
        settings: Settings | None = None,
    ) -> None:
        self.seed = seed
        self.ids = ids
        self.tenants = tenants
        self.settings = settings or Settings()
        self._base_patients = {p["id"]: p for p in seed.patients}
        # Lower-cased "id name" per base patient, indexed once for search.
        self._search = TrigramIndex([search_key(p) for p in seed.patients])
        # Derived views of the seeded data (read-only, so valid for ever), oldest first.
        self._derived: dict[Hashable, Any] = {}
        # Derived views of clients: (client, key) -> (version, value), least recent first.
        self._client_derived: OrderedDict[tuple[str, Hashable], tuple[int, Any]] = OrderedDict()
        self._computing: dict[tuple[Any, int], asyncio.Future[Any]] = {}
        self._seeded_rows: OrderedDict[str, array] = OrderedDict()
        self._seeded_held = 0

    # -- tenants ---------------------------------------------------------------

    async def reset(self, client_id: str) -> dict[str, int]:
        """Restore the client's sandbox to the seeded state; what it held.

        Everything it created goes in one step, its pending deliveries and their
        scheduled retries too (``TenantState.reset``).
        """
        removed = await self.tenants.reset(client_id)
        for key in [k for k in self._client_derived if k[0] == client_id]:
            del self._client_derived[key]
        return removed

    async def usage(self, client_id: str) -> dict[str, int]:
        """What the client holds of the store's quotas: ``patients``, ``entries``."""
        return await self.tenants.usage(client_id)

    # -- patients --------------------------------------------------------------

    async def list_patients(
        self, client_id: str, *, search: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of patients matching ``search`` (seeded first), and the number of matches."""
        if not search:
            base = self.seed.patients
            page = base[offset : offset + limit]
            start = max(0, offset - len(base))
            created, count = await self.tenants.page(client_id, start, limit - len(page))
            return page + created, len(base) + count
        term = search.lower()
        rows = self._find_seeded(term)
        page = [self.seed.patients[row] for row in rows[offset : offset + limit]]
        start = max(0, offset - len(rows))
        created, count = await self._search_created(client_id, term, start, limit - len(page))
        return page + created, len(rows) + count

    def _find_seeded(self, term: str) -> array:
        """The seeded rows holding ``term``, remembered (least recently used out first)."""
        rows = self._seeded_rows.get(term)
        if rows is not None:
            self._seeded_rows.move_to_end(term)
            return rows
        rows = array("i", self._search.find(term))
        if len(rows) <= self.SEEDED_ROWS_MAX:
            self._seeded_rows[term] = rows
            self._seeded_held += len(rows)
            while self._seeded_held > self.SEEDED_ROWS_MAX:
                self._seeded_held -= len(self._seeded_rows.popitem(last=False)[1])
        return rows

    async def _search_created(
        self, client_id: str, term: str, start: int, count: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The tenant's matches: one call, which each engine makes cheap its own way (memory:
        the tenant's trigram index, its answers remembered until the tenant's next write;
        Redis: one script that scans only what was created since this worker's last search
        of the term). No version is read first: on Redis that was a round trip more."""
        return await self.tenants.search(client_id, term, start, count)

    async def get_patient(self, client_id: str, patient_id: str) -> dict[str, Any]:
        """The patient, or ``NotFound`` (also for another client's patients)."""
        patient = self._base_patients.get(patient_id) or await self.tenants.get_patient(
            client_id, patient_id
        )
        if patient is None:
            raise NotFound.resource("Patient", "patient_id", patient_id)
        return patient

    def seed_patient(self, patient_id: str) -> dict[str, Any] | None:
        """A seeded patient, or None."""
        return self._base_patients.get(patient_id)

    async def patient_with_entries(
        self, client_id: str, patient_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The patient and its entries (oldest first), in one look-up; ``NotFound``."""
        seeded = self._base_patients.get(patient_id)
        created_patient, created = await self.tenants.patient_and_entries(
            client_id, patient_id, seeded=seeded is not None
        )
        patient = seeded or created_patient
        if patient is None:
            raise NotFound.resource("Patient", "patient_id", patient_id)
        return patient, self.merge_entries(patient_id, created)

    async def add_patient(
        self, client_id: str, patient: dict[str, Any], then: EventDeliveries | None = None
    ) -> dict[str, Any]:
        """Store a new patient (its ``id`` already set), or 409 past the patients quota.

        ``then``: the event's deliveries, queued in the same atomic step if it is stored.
        """
        cap = quotas.limit(self.settings, "patients")
        result = await self.tenants.add_patient(client_id, patient, search_key(patient), cap, then)
        if not result.stored:
            raise quotas.exceeded("patients", cap, result.used)
        return patient

    # -- clinical data ---------------------------------------------------------

    async def entries(self, client_id: str, patient_id: str) -> list[dict[str, Any]]:
        """The patient's entries, oldest first (seeded and created); ``NotFound``."""
        return (await self.patient_with_entries(client_id, patient_id))[1]

    def merge_entries(self, patient_id: str, created: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The seeded entries of ``patient_id`` with ``created`` ones, oldest first."""
        base = self.seed.entries.get(patient_id, [])
        if not created:
            return base
        return sorted([*base, *created], key=lambda e: (e["recorded_at"], e["id"]))

    async def add_entry(
        self, client_id: str, entry: dict[str, Any], then: EventDeliveries | None = None
    ) -> dict[str, Any]:
        """Store a new entry for an existing patient; 404 if it is gone, 409 past the quota."""
        patient_id = entry["patient_id"]
        cap = quotas.limit(self.settings, "entries")
        result = await self.tenants.add_entry(
            client_id, entry, cap, seeded_patient=patient_id in self._base_patients, then=then
        )
        if result.reason == NO_PATIENT:
            raise NotFound.resource("Patient", "patient_id", patient_id)
        if not result.stored:
            raise quotas.exceeded("entries", cap, result.used)
        return entry

    async def get_entry(self, client_id: str, patient_id: str, entry_id: str) -> dict[str, Any]:
        """One entry of the patient, or ``NotFound``."""
        for entry in await self.entries(client_id, patient_id):
            if entry["id"] == entry_id:
                return entry
        raise NotFound.resource("Clinical data entry", "entry_id", entry_id)

    # -- derived views ---------------------------------------------------------

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` over the seeded data, memoised per key for good (read-only)."""
        if key in self._derived:
            return self._derived[key]
        value = self._derived[key] = compute()
        if len(self._derived) > self.DERIVED_MAX:
            del self._derived[next(iter(self._derived))]
        return value

    async def derived(
        self, client_id: str, key: Hashable, compute: Callable[[TenantData], Any]
    ) -> Any:
        """``compute(data)`` of what the client created, memoised until its next write.

        Only the tenant's version is read on a hit; the tenant's data is loaded on
        a miss. Treat the value as read-only.
        """
        version = await self.tenants.version(client_id)
        slot = (client_id, key)
        hit = self._client_derived.get(slot)
        if hit is not None and hit[0] == version:
            self._client_derived.move_to_end(slot)
            return hit[1]
        # Requests arriving together for a view that is not cached wait for one
        # computation (loading a tenant of 20,000 patients from Redis once, not 16 times).
        running = self._computing.get((slot, version))
        if running is not None:
            return await asyncio.shield(running)
        task = asyncio.ensure_future(self._compute(client_id, slot, compute))
        self._computing[(slot, version)] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._computing.pop((slot, version), None)
            else:
                task.add_done_callback(lambda _: self._computing.pop((slot, version), None))

    async def _compute(
        self, client_id: str, slot: tuple[str, Hashable], compute: Callable[[TenantData], Any]
    ) -> Any:
        data = await self.tenants.data(client_id)
        value = compute(data)
        self._client_derived[slot] = (data.version, value)
        self._client_derived.move_to_end(slot)
        while len(self._client_derived) > self.DERIVED_MAX:
            self._client_derived.popitem(last=False)
        return value
