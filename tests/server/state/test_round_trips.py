"""A ``/v1`` request's rate-limit count rides on its first state call (``state/redis/trips.py``).

On Redis a simple request is one round trip (the count and the read in one
script); a refused request, on either engine, changes nothing and answers the
same 429 whatever call its count rode on.
"""

from __future__ import annotations

import pytest
from redis.asyncio.connection import AbstractConnection

from harness import Sandbox

CLIENT = "sandbox-enterprise"
JOURNAL_READERS = b"journal-read:"  # state/redis/journal.py's keys of readers
PATIENT = {"name": "Jane Smith", "date_of_birth": "1985-05-20", "gender": "female"}


def _usage(sandbox: Sandbox) -> dict[str, int]:
    return sandbox.http.portal.call(sandbox.services.store.usage, CLIENT)


def test_a_refused_request_changes_nothing(sandbox_factory) -> None:
    sandbox = sandbox_factory(tier_limits={"standard": 2, "professional": 2, "enterprise": 2})
    assert sandbox.post("/v1/patients", json=PATIENT).status_code == 201
    assert sandbox.get("/v1/patients?limit=1").status_code == 200
    before = _usage(sandbox)
    refused = [
        sandbox.post("/v1/patients", json=PATIENT),
        sandbox.post(
            "/v1/patients/patient_123/clinical-data",
            json={"data_type": "pain_scores", "value": {"score": 3}},
            check=False,
        ),
        sandbox.get("/v1/patients?limit=1"),
        sandbox.get("/v1/patients/patient_123"),
        sandbox.get("/v1/patients?search=smith"),
        sandbox.get("/v1/patients?limit=0", check=False),  # a 400 of its own, counted first
    ]
    for response in refused:
        assert response.status_code == 429, (response.url, response.text)
        assert response.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["cache-control"] == "no-store"
    assert _usage(sandbox) == before


@pytest.mark.parametrize("sandbox_factory", ["redis"], indirect=True)
def test_a_request_is_one_round_trip(sandbox_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = sandbox_factory()
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    async def counting(self, command, check_health=True):  # type: ignore[no-untyped-def]
        packed = command if isinstance(command, bytes | bytearray) else b"".join(command)
        # This client's calls, not the background workers' (the journal's check for
        # readers, every 0.25 s, names the client too: it may fall in any request).
        if CLIENT.encode() in packed and JOURNAL_READERS not in packed:
            sent.append(bytes(packed))
        return await original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    created = sandbox.post("/v1/patients", json=PATIENT).json()["id"]
    requests = [
        ("GET", "/v1/patients?limit=10"),
        ("GET", "/v1/patients?page=16&limit=10"),  # past the seeded ones
        ("GET", "/v1/patients?search=smith"),
        ("GET", "/v1/patients/patient_123"),
        ("GET", f"/v1/patients/{created}"),
        ("GET", "/v1/patients/patient_123/clinical-data?data_type=pain_scores"),
        ("GET", f"/v1/patients/{created}/clinical-data"),
    ]
    for method, url in requests:
        sandbox.request(method, url)  # warm: a tenant's first read records its activity
        sent.clear()
        response = sandbox.request(method, url)
        assert response.status_code == 200, response.text
        assert len(sent) == 1, (url, sent)
    # A search right after a write reads no version first: one script.
    sandbox.post("/v1/patients", json=PATIENT)
    sent.clear()
    assert sandbox.get("/v1/patients?search=smith").status_code == 200
    assert len(sent) == 1, sent
    # A create reads no webhooks when none subscribes to its event (state/unread.py): the
    # count, the check and the write are one script.
    sent.clear()
    assert sandbox.post("/v1/patients", json=PATIENT).status_code == 201
    assert len(sent) == 1, sent
    # A granted token request: the address's and the pair's budgets read and the grant
    # counted in one script (``Counters.gate``); the client's clock is cached.
    form = {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": CLIENT}
    form["client_secret"] += "-secret"
    for _ in range(2):
        sent.clear()
        assert sandbox.http.post("/oauth/token", data=form).status_code == 200
    assert len(sent) == 1, sent
