"""Search over a tenant's created patients: indexed, and exactly the linear scan's answers.

The oracle is the scan ``Store.list_patients`` used to do (seeded matches first,
then created ones in creation order, then the page); the store must give the
same page and total for every term, offset and limit.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

import pin_mock.server.search_index as search_index
from pin_mock.server.services import Services, build_services
from pin_mock.server.settings import Settings

CLIENT = "sandbox-standard"
#: Names drawn from a small alphabet (so terms match often), with case and
#: characters whose lower case changes length or shape.
ALPHABET = "abAB de_İßΣσ1"


def _linear(services: Services, client_id: str, term: str, offset: int, limit: int):
    store = services.store
    created = list(store.tenant(client_id).patients.values())
    term = term.lower()

    def key(p: dict[str, Any]) -> str:
        return f"{p['id']} {p['name']}".lower()

    matches = [p for p in store.seed.patients if term in key(p)]
    matches += [p for p in created if term in key(p)]
    return matches[offset : offset + limit], len(matches)


@pytest.fixture(scope="module")
def services() -> Services:
    services = build_services(Settings(patients=40))
    rng = random.Random(11)
    for n in range(600):
        name = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
        patient = {"id": services.store.ids.new("patient"), "name": name, "n": n}
        services.store.add_patient(CLIENT, patient)
    return services


def test_created_patients_are_indexed_in_creation_order(services: Services) -> None:
    tenant = services.store.tenant(CLIENT)
    assert len(tenant.search) == len(tenant.patients) == 600


def test_search_agrees_with_the_linear_scan(services: Services) -> None:
    rng = random.Random(12)
    names = [p["name"] for p in services.store.tenant(CLIENT).patients.values()]
    terms = ["a", "AB", "b d", "İ", "i̇", "ß", "σ", "Σ", "patient_", "patient_1", "zzz", "e_"]
    terms += [name[i : i + rng.randint(1, 5)] for name in names[:80] for i in (0, 1)]
    terms += [p["id"][4:14] for p in list(services.store.tenant(CLIENT).patients.values())[:20]]
    for term in filter(None, terms):
        for offset, limit in ((0, 50), (0, 100), (37, 10), (650, 50)):
            got = services.store.list_patients(CLIENT, search=term, offset=offset, limit=limit)
            assert got == _linear(services, CLIENT, term, offset, limit), (term, offset)


def test_another_tenant_searches_only_its_own(services: Services) -> None:
    other = "sandbox-professional"
    page, total = services.store.list_patients(other, search="patient_", offset=0, limit=100)
    assert total == len(services.store.seed.patients)
    assert (page, total) == _linear(services, other, "patient_", 0, 100)


def test_reset_drops_the_index(services: Services) -> None:
    client = "sandbox-enterprise"
    services.store.add_patient(client, {"id": services.store.ids.new("patient"), "name": "Zed Q"})
    assert services.store.list_patients(client, search="zed q", offset=0, limit=5)[1] == 1
    services.store.reset(client)
    assert services.store.list_patients(client, search="zed q", offset=0, limit=5)[1] == 0


def test_created_patients_are_searched_through_the_index(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10, finding 6: a search used to scan every created patient."""
    consulted: list[int] = []
    find = search_index.TrigramIndex.find

    def spy(self: search_index.TrigramIndex, term: str) -> list[int]:
        consulted.append(len(self))
        return find(self, term)

    monkeypatch.setattr(search_index.TrigramIndex, "find", spy)
    services.store.list_patients(CLIENT, search="abd", offset=0, limit=10)
    assert 600 in consulted  # the tenant's index, next to the seeded one
