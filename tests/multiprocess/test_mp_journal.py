"""The request journal on ``pin-mock serve --workers 2 --state redis://``: one journal per
client, whichever worker answered the request and whichever answers the read.

Requests go through keep-alive connections owned by known worker processes
(``mp_procs.pinned``): "made through worker A, read through worker B" is what
happens. An exchange is written by its worker within a few milliseconds
(``state/redis/journal.py``), so reads through the other worker poll with a bound.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mp_procs import Receiver, Serve, pinned, request, token, wait_for

from logs_follower import Follower
from redis_db import fresh_db


@pytest.fixture(scope="module")
def workers() -> Iterator[Serve]:
    server = Serve(
        "--workers",
        "2",
        env={"PIN_MOCK_STATE": fresh_db().url, "PIN_MOCK_WEBHOOK_RETRY_FACTOR": "0.001"},
    )
    try:
        server.wait_ready()
        wait_for(lambda: len(server.workers()) == 2, "two worker processes")
        yield server
    finally:
        server.stop()


def _journal(server: Serve, who: str, conn: object = None, **query: str) -> list[dict]:
    path = "/_sandbox/requests" + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )
    status, _, body = request(server.base_url, "GET", path, token=who, conn=conn)  # type: ignore[arg-type]
    assert status == 200, body
    return body["data"]


def test_a_request_through_one_worker_is_in_the_journal_read_through_the_other(
    workers: Serve,
) -> None:
    enterprise = token(workers.base_url, "sandbox-enterprise")
    standard = token(workers.base_url, "sandbox-standard")
    held = pinned(workers)
    (a, [conn_a]), (b, [conn_b]) = list(held.items())[:2]
    assert a != b
    marker = "/v1/patients/patient_mp_journal_1"
    status, _, _ = request(workers.base_url, "GET", marker, token=enterprise, conn=conn_a)
    assert status == 404
    status, _, _ = request(workers.base_url, "GET", "/v1/patients?limit=500", token=enterprise, conn=conn_a)  # fmt: skip
    assert status == 400

    def listed() -> list[dict]:
        return [e for e in _journal(workers, enterprise, conn_b, status="4xx") if e["path"] in (marker, "/v1/patients")]  # fmt: skip

    found = wait_for(lambda: len(listed()) == 2 and listed(), "both refusals through worker B")
    reasons = {e["path"]: e["reason"] for e in found}
    assert reasons["/v1/patients"]["parameter"] == "limit"
    assert "1 to 100" in reasons["/v1/patients"]["rule"]
    assert reasons[marker]["code"] == "NOT_FOUND"
    # The other client, through either worker, sees none of it.
    for conn in (conn_a, conn_b):
        theirs = _journal(workers, standard, conn)
        assert all(e["path"] not in (marker, "/v1/patients") for e in theirs)
        assert all("sandbox-enterprise" not in str(e) for e in theirs)


def test_a_webhook_delivery_appears_in_the_timeline(workers: Serve) -> None:
    professional = token(workers.base_url, "sandbox-professional")
    receiver = Receiver()
    try:
        status, _, hook = request(
            workers.base_url,
            "POST",
            "/v1/webhooks",
            token=professional,
            body={"url": receiver.url, "events": ["patient.created"]},
        )
        assert status == 201, hook
        body = {"name": "Journal Hook", "date_of_birth": "1990-02-03", "gender": "other"}
        status, _, created = request(workers.base_url, "POST", "/v1/patients", token=professional, body=body)  # fmt: skip
        assert status == 201
        [attempt] = wait_for(
            lambda: _journal(workers, professional, operation="webhook"), "the delivery attempt"
        )
        assert attempt["status"] == 200 and attempt["webhook"]["webhook_id"] == hook["id"]
        assert created["id"] in attempt["request"]["body"]
        assert hook["secret"] not in str(_journal(workers, professional))
    finally:
        receiver.close()


def test_logs_follow_prints_a_request_made_afterwards(workers: Serve) -> None:
    follower = Follower(workers.base_url, "--client-id", "sandbox-readonly")
    try:
        follower.wait_following()
        readonly = token(workers.base_url, "sandbox-readonly")
        held = pinned(workers)
        for number, conns in enumerate(held.values()):  # through each worker in turn
            path = f"/v1/patients/patient_mp_follow_{number}"
            request(workers.base_url, "GET", path, token=readonly, conn=conns[0])
            line = follower.expect(path)[-1]
            assert "404  getPatient" in line
    finally:
        assert follower.stop() == 0
