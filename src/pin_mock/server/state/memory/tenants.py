"""``memory://``: what clients created, in this process (the default engine's tenants).

One ``Tenant`` per client (``tenant.py``). Nothing here awaits, so each method
runs whole within the event loop: a quota check and its write (and the event
deliveries a create takes along) are atomic, as every write must be. It is as
fast as the dictionaries it reads.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import count, islice
from typing import Any

from pin_mock.server.state.memory.queue import MemoryQueue
from pin_mock.server.state.memory.tenant import Tenants
from pin_mock.server.state.memory.webhooks import MemoryWebhooks
from pin_mock.server.state.ports import (
    NO_PATIENT,
    QUOTA_FULL,
    Entry,
    EventDeliveries,
    Patient,
    TenantData,
    WriteResult,
)
from pin_mock.server.state.unread import Subscribed

#: Versions are drawn from one process-wide counter, so a reset tenant never
#: repeats a version a derived view was cached at before the reset.
_VERSIONS = count(1)
#: Searches of created patients remembered (``search``).
SEARCHES_KEPT = 64


class MemoryTenants:
    """``TenantState`` on dictionaries: one ``Tenant`` per client."""

    def __init__(
        self, tenants: Tenants, webhooks: MemoryWebhooks, queues: tuple[MemoryQueue, ...]
    ) -> None:
        self.tenant = tenants.get
        self._tenants = tenants
        self._webhooks = webhooks
        self._queues = queues
        #: Searches remembered, each until its tenant's next write (a page each: 100 at most).
        self._searches: OrderedDict[tuple[str, str, int, int], tuple[int, Any]] = OrderedDict()

    async def page(self, client_id: str, start: int, count: int) -> tuple[list[Patient], int]:
        patients = self.tenant(client_id).patients
        if count <= 0 or start >= len(patients):
            return [], len(patients)
        # Only the slice is copied: a tenant may hold 10,000 patients.
        return list(islice(patients.values(), start, start + count)), len(patients)

    async def search(
        self, client_id: str, term: str, start: int, count: int
    ) -> tuple[list[Patient], int]:
        tenant = self.tenant(client_id)
        slot = (client_id, term, start, count)
        hit = self._searches.get(slot)
        if hit is not None and hit[0] == tenant.version:  # no write since: the same answer
            self._searches.move_to_end(slot)
            return hit[1]
        rows = tenant.search.find(term)
        if not rows or count <= 0:
            found: tuple[list[Patient], int] = ([], len(rows))
        else:
            # The tenant's index rows are its patients in creation order.
            created = list(tenant.patients.values())
            found = [created[row] for row in rows[start : start + count]], len(rows)
        self._searches[slot] = (tenant.version, found)
        while len(self._searches) > SEARCHES_KEPT:
            self._searches.popitem(last=False)
        return found

    async def get_patient(self, client_id: str, patient_id: str) -> Patient | None:
        return self.tenant(client_id).patients.get(patient_id)

    async def patient_and_entries(
        self, client_id: str, patient_id: str, *, seeded: bool
    ) -> tuple[Patient | None, list[Entry]]:
        tenant = self.tenant(client_id)
        patient = None if seeded else tenant.patients.get(patient_id)
        return patient, tenant.entries.get(patient_id, [])

    async def add_patient(
        self,
        client_id: str,
        patient: Patient,
        search_key: str,
        cap: int,
        then: EventDeliveries | None = None,
    ) -> WriteResult:
        tenant = self.tenant(client_id)
        held = len(tenant.patients)
        self._unread(then)
        if patient["id"] in tenant.patients:  # the same create again (as on Redis)
            return WriteResult(True, held)
        if held >= cap:
            return WriteResult(False, held, QUOTA_FULL)
        tenant.patients[patient["id"]] = patient
        tenant.search.add(search_key)
        tenant.version = next(_VERSIONS)
        if then is not None:
            self._webhooks.enqueue_now(then)
        return WriteResult(True, held + 1)

    async def add_entry(
        self,
        client_id: str,
        entry: Entry,
        cap: int,
        *,
        seeded_patient: bool,
        then: EventDeliveries | None = None,
    ) -> WriteResult:
        tenant = self.tenant(client_id)
        self._unread(then)
        if not seeded_patient and entry["patient_id"] not in tenant.patients:
            return WriteResult(False, tenant.entry_count, NO_PATIENT)
        held = tenant.entries.get(entry["patient_id"])
        if held and held[-1]["id"] == entry["id"]:  # the same create again (as on Redis)
            return WriteResult(True, tenant.entry_count)
        if tenant.entry_count >= cap:
            return WriteResult(False, tenant.entry_count, QUOTA_FULL)
        tenant.entries.setdefault(entry["patient_id"], []).append(entry)
        tenant.entry_count += 1
        tenant.version = next(_VERSIONS)
        if then is not None:
            self._webhooks.enqueue_now(then)
        return WriteResult(True, tenant.entry_count)

    def _unread(self, then: EventDeliveries | None) -> None:
        """``Subscribed`` if ``then`` was staged unread and someone subscribes after all."""
        if (
            then is not None
            and then.unread
            and self._webhooks.subscribed(then.client_id, then.unread)
        ):
            raise Subscribed(then.unread)

    async def version(self, client_id: str) -> int:
        tenant = self._tenants.peek(client_id)
        return 0 if tenant is None else tenant.version

    async def data(self, client_id: str) -> TenantData:
        tenant = self.tenant(client_id)
        return TenantData(tenant.version, tenant.patients, tenant.entries)

    async def usage(self, client_id: str) -> dict[str, int]:
        tenant = self.tenant(client_id)
        return {"patients": len(tenant.patients), "entries": tenant.entry_count}

    async def reset(self, client_id: str) -> dict[str, int]:
        tenant = self._tenants.pop(client_id)
        for queue in self._queues:  # its pending deliveries, their retries, its report jobs
            queue.cancel(client_id)
        return {
            "patients": len(tenant.patients),
            "clinical_data": tenant.entry_count,
            "reports": len(tenant.reports),
            "webhooks": len(tenant.webhooks),
        }

    async def expire_idle(self) -> list[str]:
        return []  # a sandbox in memory lives as long as its process (--sandbox-ttl: Redis)
