"""Sandbox state: the seeded base data, shared and read-only, plus one tenant per client.

(``tenants.py`` holds what one client created; ``IdFactory`` here issues the ids.)

Every client sees the same seeded patients and clinical data, plus what it
created itself; nothing one client creates is visible to another. Resetting a
client's sandbox drops its tenant.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Iterator
from hashlib import blake2b
from itertools import islice
from typing import Any

from pin_mock.server.errors import NotFound
from pin_mock.server.search_index import TrigramIndex
from pin_mock.server.seed.generator import SeedData
from pin_mock.server.tenants import Tenant


class IdFactory:
    """Ids of created objects, like ``patient_9f3a0c1b2d4e``: unpredictable, never reused.

    Every created id is ``<prefix>_`` and 12 hex digits: a keyed pseudorandom
    permutation (a Feistel network over a process-wide counter, keyed by
    ``secrets``) of the number of ids issued so far. So ids never repeat in one
    sandbox's life (a permutation of a counter cannot collide), reveal nothing
    about how many objects other tenants created (the gaps are random), and
    differ after a restart (a new key), while the process keeps no set of issued
    ids. The top bit of the 48 is always set, so created ids never equal a seeded
    one (those count patients from 0: ``cd_0000097000a3``). Seeded data does not
    use this factory; it stays a pure function of the seed.
    """

    BITS = 47  # the permutation's width; bit 48 marks a created id
    _ROUNDS = 6  # Luby-Rackoff: four rounds of a PRF already give a strong PRP

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self._count = 0

    def new(self, prefix: str) -> str:
        """A fresh id with ``prefix``, never issued before in this process."""
        if self._count >= 1 << self.BITS:
            raise RuntimeError("id space exhausted")  # 1.4e14 ids: unreachable in practice
        value = self._permute(self._count)
        self._count += 1
        return f"{prefix}_{(1 << self.BITS) | value:012x}"

    def _permute(self, number: int) -> int:
        # An unbalanced Feistel network: halves of 23 and 24 bits swap widths each
        # round, so every round (and the whole) is a bijection on 47-bit numbers.
        left_bits = self.BITS // 2
        right_bits = self.BITS - left_bits
        left, right = number >> right_bits, number & ((1 << right_bits) - 1)
        for round_no in range(self._ROUNDS):
            mixed = blake2b(
                round_no.to_bytes(1, "big") + right.to_bytes(4, "big"),
                key=self._key,
                digest_size=4,
            )
            new_right = left ^ (int.from_bytes(mixed.digest(), "big") & ((1 << left_bits) - 1))
            left, right = right, new_right
            left_bits, right_bits = right_bits, left_bits
        return (left << right_bits) | right


def search_key(patient: dict[str, Any]) -> str:
    """What ``search`` matches in a patient: its id and name, lower-cased."""
    return f"{patient['id']} {patient['name']}".lower()


class Store:
    """Seeded base data plus per-client tenants."""

    def __init__(self, seed: SeedData, ids: IdFactory) -> None:
        self.seed = seed
        self.ids = ids
        self._tenants: dict[str, Tenant] = {}
        self._base_patients = {p["id"]: p for p in seed.patients}
        # Lower-cased "id name" per base patient, indexed once for search.
        self._search = TrigramIndex([search_key(p) for p in seed.patients])
        # Derived views of the seeded data (read-only, so valid for ever), oldest first.
        self._derived: dict[Hashable, Any] = {}

    # -- tenants ---------------------------------------------------------------

    def tenant(self, client_id: str) -> Tenant:
        """The client's tenant, created on first use."""
        tenant = self._tenants.get(client_id)
        if tenant is None:
            tenant = self._tenants[client_id] = Tenant()
        return tenant

    def reset(self, client_id: str) -> None:
        """Restore the client's sandbox to the seeded state."""
        self._tenants.pop(client_id, None)

    # -- patients --------------------------------------------------------------

    def iter_patients(self, client_id: str) -> Iterator[dict[str, Any]]:
        """Every patient the client can see: seeded first, then created."""
        yield from self.seed.patients
        yield from self.tenant(client_id).patients.values()

    def list_patients(
        self, client_id: str, *, search: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of patients matching ``search``, and the number of matches."""
        tenant = self.tenant(client_id)
        if not search:
            base = self.seed.patients
            total = len(base) + len(tenant.patients)
            page = base[offset : offset + limit]
            start = max(0, offset - len(base))
            if len(page) < limit and start < len(tenant.patients):
                # Only the slice is copied: a tenant may hold 10,000 patients.
                rest = islice(tenant.patients.values(), start, start + limit - len(page))
                page = page + list(rest)
            return page, total
        term = search.lower()
        matches = [self.seed.patients[row] for row in self._search.find(term)]
        rows = tenant.search.find(term)
        if rows:
            # The tenant's index rows are its patients in creation order.
            created = list(tenant.patients.values())
            matches += [created[row] for row in rows]
        return matches[offset : offset + limit], len(matches)

    def get_patient(self, client_id: str, patient_id: str) -> dict[str, Any]:
        """The patient, or ``NotFound`` (also for another client's patients)."""
        patient = self._base_patients.get(patient_id) or self.tenant(client_id).patients.get(
            patient_id
        )
        if patient is None:
            raise NotFound.resource("Patient", "patient_id", patient_id)
        return patient

    def add_patient(self, client_id: str, patient: dict[str, Any]) -> dict[str, Any]:
        """Store a new patient (its ``id`` already set)."""
        tenant = self.tenant(client_id)
        tenant.patients[patient["id"]] = patient
        tenant.search.add(search_key(patient))
        tenant.version += 1
        return patient

    # -- clinical data ---------------------------------------------------------

    def entries(self, client_id: str, patient_id: str) -> list[dict[str, Any]]:
        """The patient's entries, oldest first (seeded and created)."""
        self.get_patient(client_id, patient_id)
        base = self.seed.entries.get(patient_id, [])
        created = self.tenant(client_id).entries.get(patient_id)
        if not created:
            return base
        return sorted([*base, *created], key=lambda e: (e["recorded_at"], e["id"]))

    def add_entry(self, client_id: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Store a new entry for an existing patient."""
        self.get_patient(client_id, entry["patient_id"])
        tenant = self.tenant(client_id)
        tenant.entries.setdefault(entry["patient_id"], []).append(entry)
        tenant.entry_count += 1
        tenant.version += 1
        return entry

    def get_entry(self, client_id: str, patient_id: str, entry_id: str) -> dict[str, Any]:
        """One entry of the patient, or ``NotFound``."""
        for entry in self.entries(client_id, patient_id):
            if entry["id"] == entry_id:
                return entry
        raise NotFound.resource("Clinical data entry", "entry_id", entry_id)

    # -- derived views ---------------------------------------------------------

    DERIVED_MAX = 256

    def cached(self, client_id: str | None, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, memoised per key: for the seeded data (``client_id`` None)
        for good, for a client until its next write (or reset). Treat it as read-only.
        """
        if client_id is None:
            if key in self._derived:
                return self._derived[key]
            value = self._derived[key] = compute()
            if len(self._derived) > self.DERIVED_MAX:
                del self._derived[next(iter(self._derived))]
            return value
        tenant = self.tenant(client_id)
        hit = tenant.derived.get(key)
        if hit is not None and hit[0] == tenant.version:
            return hit[1]
        value = compute()
        tenant.derived[key] = (tenant.version, value)
        if len(tenant.derived) > self.DERIVED_MAX:
            del tenant.derived[next(iter(tenant.derived))]
        return value
