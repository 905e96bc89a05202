"""Search over a tenant's created patients: indexed, and exactly the linear scan's answers.

The oracle is the scan ``Store.list_patients`` used to do (seeded matches first,
then created ones in creation order, then the page); the store must give the
same page and total for every term, offset and limit, on both engines (on
Redis: the trigram sets and the search script, ``state/redis_scripts.py``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import pin_mock.server.search_index as search_index
from pin_mock.server.services import Services
from pin_mock.server.settings import Settings
from pin_mock.server.wiring import build_services
from sandboxes import ENGINES, engine_url

CLIENT = "sandbox-standard"
#: Names drawn from a small alphabet (so terms match often), with case and
#: characters whose lower case changes length or shape.
ALPHABET = "abAB de_İßΣσ1"


def _linear(env: Env, client_id: str, term: str, offset: int, limit: int):
    store = env.services.store
    created = env.created.get(client_id, [])
    term = term.lower()

    def key(p: dict[str, Any]) -> str:
        return f"{p['id']} {p['name']}".lower()

    matches = [p for p in store.seed.patients if term in key(p)]
    matches += [p for p in created if term in key(p)]
    return matches[offset : offset + limit], len(matches)


@dataclass
class Env:
    """A store on one engine, its own event loop, and the patients each client created."""

    services: Services
    loop: asyncio.AbstractEventLoop
    created: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def add(self, client_id: str, patient: dict[str, Any]) -> None:
        self.run(self.services.store.add_patient(client_id, patient))
        self.created.setdefault(client_id, []).append(patient)

    def search(self, client_id: str, term: str, offset: int, limit: int):
        store = self.services.store
        return self.run(store.list_patients(client_id, search=term, offset=offset, limit=limit))


@pytest.fixture(scope="module", params=ENGINES)
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    services = build_services(Settings(patients=40, state=engine_url(request.param)))
    env = Env(services, asyncio.new_event_loop())
    rng = random.Random(11)
    for n in range(600):
        name = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
        env.add(CLIENT, {"id": services.store.ids.new("patient"), "name": name, "n": n})
    yield env
    for worker in reversed(services.workers):  # the sandbox stops: the engine closes last
        env.run(worker.aclose())
    env.loop.close()


def test_created_patients_are_counted_in_creation_order(env: Env) -> None:
    seeded = len(env.services.store.seed.patients)
    page, total = env.run(
        env.services.store.list_patients(CLIENT, search=None, offset=seeded, limit=600)
    )
    assert total == seeded + 600
    assert page == env.created[CLIENT]


def test_search_agrees_with_the_linear_scan(env: Env) -> None:
    rng = random.Random(12)
    created = env.created[CLIENT]
    names = [p["name"] for p in created]
    terms = ["a", "AB", "b d", "İ", "i̇", "ß", "σ", "Σ", "patient_", "patient_1", "zzz", "e_"]
    terms += [name[i : i + rng.randint(1, 5)] for name in names[:80] for i in (0, 1)]
    terms += [p["id"][4:14] for p in created[:20]]
    for term in filter(None, terms):
        for offset, limit in ((0, 50), (0, 100), (37, 10), (650, 50)):
            got = env.search(CLIENT, term, offset, limit)
            assert got == _linear(env, CLIENT, term, offset, limit), (term, offset)


def test_another_tenant_searches_only_its_own(env: Env) -> None:
    other = "sandbox-professional"
    page, total = env.search(other, "patient_", 0, 100)
    assert total == len(env.services.store.seed.patients)
    assert (page, total) == _linear(env, other, "patient_", 0, 100)


def test_reset_drops_the_index(env: Env) -> None:
    client = "sandbox-enterprise"
    env.add(client, {"id": env.services.store.ids.new("patient"), "name": "Zed Q"})
    assert env.search(client, "zed q", 0, 5)[1] == 1
    removed = env.run(env.services.store.reset(client))
    assert removed["patients"] == 1
    assert env.search(client, "zed q", 0, 5)[1] == 0
    env.created.pop(client)


@pytest.mark.parametrize("env", ["memory"], indirect=True)
def test_created_patients_are_searched_through_the_index(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10, finding 6: a search used to scan every created patient (memory engine;
    on Redis the trigram sets are intersected by the search script)."""
    consulted: list[int] = []
    find = search_index.TrigramIndex.find

    def spy(self: search_index.TrigramIndex, term: str) -> list[int]:
        consulted.append(len(self))
        return find(self, term)

    monkeypatch.setattr(search_index.TrigramIndex, "find", spy)
    env.search(CLIENT, "abd", 0, 10)
    assert 600 in consulted  # the tenant's index, next to the seeded one


def test_search_between_creates_agrees_with_the_linear_scan(env: Env) -> None:
    """Creates between searches: on Redis a worker scans only what was created since its
    last search of a term (``state/redis/tenant_scripts.SEARCH``), deep pages and a reset
    included; the answers stay those of the scan."""
    client = "sandbox-professional"
    rng = random.Random(13)
    terms = ["a", "ab", "b", "zq", "patient_"]
    for round_ in range(6):
        for _ in range(rng.choice((1, 7, 60))):
            name = "zq " + "".join(rng.choice("abAB ") for _ in range(rng.randint(1, 6)))
            env.add(client, {"id": env.services.store.ids.new("patient"), "name": name})
        for term in terms:
            for offset, limit in ((0, 10), (5, 100), (190, 30), (250, 50), (40, 0)):
                got = env.search(client, term, offset, limit)
                assert got == _linear(env, client, term, offset, limit), (round_, term, offset)
        if round_ == 3:  # a new generation: what a worker knew of the old one is dropped
            env.run(env.services.store.reset(client))
            env.created.pop(client)
    env.run(env.services.store.reset(client))
    env.created.pop(client, None)
