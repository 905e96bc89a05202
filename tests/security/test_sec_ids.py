"""Created ids reveal nothing about other tenants and never name two objects.

OWASP API Security Top 10 2023:
- API1:2023 Broken Object Level Authorization: ids came from one sequence
  seeded by ``--seed`` and shared by all tenants (issue 10, finding 10), so
  anyone knowing the seed could predict every id another tenant would get, and
  count its writes from the gaps; after a restart the same id named a different
  object. Created ids are now a keyed random permutation of a counter:
  unpredictable, unique for the sandbox's life, different after a restart.
- API3:2023 Broken Object Property Level Authorization (data exposure): nothing
  about other tenants' activity leaks through the ids a tenant is given.

The seeded base data still depends on the seed alone, byte for byte.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from harness import Sandbox
from pin_mock.server.domain.ids import IdFactory
from pin_mock.server.domain.seed.generator import generate
from pin_mock.server.encoding import encode
from pin_mock.server.settings import Settings
from pin_mock.server.state.memory.keys import MemoryIdSpace

CREATED_ID = re.compile(r"^(patient|cd|rpt|wh)_[89a-f][0-9a-f]{11}$")


def _create_patient(sb: Sandbox, as_client: str = "sandbox-standard") -> str:
    body = {"name": "Id Test", "date_of_birth": "1980-01-01"}
    response = sb.post("/v1/patients", json=body, as_client=as_client)
    assert response.status_code == 201
    return str(response.json()["id"])


def _old_sequence(seed: int, count: int) -> list[str]:
    """The ids the sandbox used to hand out, predictable from the seed alone."""
    rng = random.Random(f"ids:{seed}")
    return [f"patient_{rng.getrandbits(48):012x}" for _ in range(count)]


def test_ids_are_not_predictable_from_the_seed(sandbox: Sandbox) -> None:
    created = [_create_patient(sandbox) for _ in range(5)]
    assert not set(created) & set(_old_sequence(sandbox.settings.seed, 1000))


def test_two_sandboxes_with_one_seed_give_different_ids(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    """A restart: the same id must not name a different patient."""
    first, second = sandbox_factory(seed=7), sandbox_factory(seed=7)
    assert _create_patient(first) != _create_patient(second)
    assert first.get("/v1/patients?limit=5").content == second.get("/v1/patients?limit=5").content


def test_created_ids_keep_the_documented_shape(sandbox: Sandbox) -> None:
    patient = _create_patient(sandbox)
    entry = sandbox.post(
        f"/v1/patients/{patient}/clinical-data",
        json={"data_type": "pain_scores", "value": {"score": 2}},
        as_client="sandbox-standard",
    ).json()["id"]
    report = sandbox.post(
        "/v1/reports", json={"type": "population_health", "format": "json"}
    ).json()["id"]
    webhook = sandbox.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["report.failed"]}
    ).json()["id"]
    for created in (patient, entry, report, webhook):
        assert CREATED_ID.match(created), created


def test_a_tenant_cannot_count_another_tenants_writes(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    """With or without another tenant's 50 writes in between, the next id looks the same.

    The old ids were consecutive draws of one generator: an observer with the
    seed could tell how many ids others had used in between. Here the id is a
    keyed permutation: replaying the old generator finds none of them.
    """
    sandbox = sandbox_factory(seed=3)
    mine = [_create_patient(sandbox)]
    for _ in range(50):
        _create_patient(sandbox, as_client="sandbox-professional")
    mine.append(_create_patient(sandbox))
    old = _old_sequence(3, 200)
    assert not any(created in old for created in mine)


def test_ids_are_never_reused_after_a_reset(sandbox: Sandbox) -> None:
    before = _create_patient(sandbox)
    token = sandbox.token("sandbox-standard")
    sandbox.http.post("/_sandbox/reset", headers={"Authorization": f"Bearer {token}"})
    after = [_create_patient(sandbox) for _ in range(20)]
    assert before not in after
    assert sandbox.get(f"/v1/patients/{before}", as_client="sandbox-standard").status_code == 404


def test_the_factory_is_a_permutation_so_ids_cannot_collide() -> None:
    class Narrow(IdFactory):
        BITS = 12  # small enough to check every value

    narrow = Narrow(MemoryIdSpace())
    values = [narrow._permute(n) for n in range(1 << Narrow.BITS)]
    assert sorted(values) == list(range(1 << Narrow.BITS))

    ids = IdFactory(MemoryIdSpace())
    issued = [ids.new("patient") for _ in range(50_000)]
    assert len(set(issued)) == len(issued)
    assert all(CREATED_ID.match(i) for i in issued[:100])


def test_seeded_data_is_byte_identical_for_a_seed() -> None:
    fixtures = Settings().fixtures

    def snapshot(seed: int) -> bytes:
        data = generate(fixtures, seed=seed, patients=60)
        return encode({"patients": data.patients, "entries": dict(data.entries)})

    assert snapshot(42) == snapshot(42)
    assert snapshot(42) != snapshot(43)
