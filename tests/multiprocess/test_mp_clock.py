"""A client's clock across ``pin-mock serve --workers 2 --state redis://``.

The clock lives in Redis, so a move made through one worker is the clock every
worker reads on the next request: each scenario moves the clock through one
worker process and observes through the other (``mp_procs.pinned``). The same
scenarios in one process, on both engines, are in
``tests/server/handlers/test_sandbox_clock.py``.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from mp_procs import Receiver, Serve, pinned, request, token, wait_for

from redis_db import fresh_db

T0 = "2030-01-01T00:00:00Z"
LIMIT = 5  # the standard tier's budget per window (sandbox-standard)
REPORT_DELAY = 1.0


@pytest.fixture(scope="module")
def workers() -> Iterator[Serve]:
    server = Serve(
        "--workers",
        "2",
        env={
            "PIN_MOCK_STATE": fresh_db().url,
            "PIN_MOCK_TIER_LIMITS": f"standard={LIMIT},professional=10000,enterprise=100000",
            "PIN_MOCK_REPORT_DELAY": str(REPORT_DELAY),
            "PIN_MOCK_WEBHOOK_TIMEOUT": "2",
        },
    )
    try:
        server.wait_ready()
        wait_for(lambda: len(server.workers()) == 2, "two worker processes")
        yield server
    finally:
        server.stop()


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).timestamp()


class Two:
    """One client's calls through worker A or worker B; tokens fetched on its moved clock."""

    def __init__(self, server: Serve, client_id: str) -> None:
        self.url, self.client_id = server.base_url, client_id
        (_, [self.a]), (_, [self.b]) = pinned(server).items()
        self.bearer = token(self.url, client_id)
        status, _, body = self.call(self.a, "POST", "/_sandbox/reset")  # the real clock again
        assert status in (200, 403), body

    def call(self, conn: http.client.HTTPConnection, method: str, path: str, body: Any = None):
        return request(self.url, method, path, token=self.bearer, body=body, conn=conn)

    def move(self, conn: http.client.HTTPConnection, action: str, body: Any = None) -> dict:
        status, _, answer = self.call(conn, "POST", f"/_sandbox/clock/{action}", body)
        assert status == 200, answer
        self.bearer = token(self.url, self.client_id)  # issued on the moved clock
        return answer

    def now(self, conn: http.client.HTTPConnection) -> dict:
        status, _, answer = self.call(conn, "GET", "/_sandbox/clock")
        assert status == 200, answer
        return answer


def test_a_move_through_one_worker_is_the_clock_of_the_other(workers: Serve) -> None:
    me = Two(workers, "sandbox-enterprise")
    me.move(me.a, "freeze", {"at": T0})
    assert me.now(me.b)["now"] == "2030-01-01T00:00:00.000Z"
    me.move(me.b, "advance", {"seconds": 60})
    me.move(me.a, "advance", {"seconds": 60})
    assert me.now(me.b)["now"] == "2030-01-01T00:02:00.000Z"
    resumed = me.move(me.b, "resume")
    assert resumed["frozen"] is False
    assert me.now(me.a)["frozen"] is False


def test_a_token_expires_on_every_worker_after_an_advance_past_its_exp(workers: Serve) -> None:
    me = Two(workers, "sandbox-professional")
    me.move(me.a, "freeze", {"at": T0})
    old = me.bearer
    for conn in (me.a, me.b):
        status, _, _ = request(me.url, "GET", "/v1/patients?limit=1", token=old, conn=conn)
        assert status == 200
    me.move(me.b, "advance", {"seconds": 3600})  # the default token lifetime
    for conn in (me.a, me.b):
        status, headers, body = request(me.url, "GET", "/v1/patients?limit=1", token=old, conn=conn)
        assert status == 401, body
        assert 'error="invalid_token"' in headers["www-authenticate"]
    status, _, _ = me.call(me.a, "GET", "/v1/patients?limit=1")  # a token of the new clock
    assert status == 200


def test_an_advance_through_one_worker_refills_the_budget_on_both(workers: Serve) -> None:
    me = Two(workers, "sandbox-standard")
    # The reset that started this client's test spent one of its budget (every /_sandbox
    # operation but the clock's counts on it).
    statuses = [me.call(conn, "GET", "/v1/patients?limit=1")[0] for conn in (me.a, me.b) * 3]
    assert sorted(statuses) == [200] * (LIMIT - 1) + [429] * 2
    status, headers, _ = me.call(me.b, "GET", "/v1/patients?limit=1")
    assert status == 429
    me.move(me.a, "advance", {"seconds": int(headers["retry-after"])})
    status, headers, _ = me.call(me.b, "GET", "/v1/patients?limit=1")
    assert (status, headers["x-ratelimit-remaining"]) == (200, str(LIMIT - 1))
    assert me.call(me.a, "GET", "/v1/patients?limit=1")[0] == 200


def test_a_frozen_report_stays_pending_until_an_advance_on_the_other_worker(
    workers: Serve,
) -> None:
    me = Two(workers, "sandbox-enterprise")
    me.move(me.a, "freeze", {"at": T0})
    body = {"type": "outcomes", "format": "csv", "parameters": {"start_date": "2024-01-01"}}
    status, _, report = me.call(me.a, "POST", "/v1/reports", body)
    assert status == 202, report
    assert report["created_at"] == "2030-01-01T00:00:00Z"
    # Three report delays of real time: a running clock would have completed it.
    deadline = time.monotonic() + 3 * REPORT_DELAY
    while time.monotonic() < deadline:
        status, _, view = me.call(me.b, "GET", f"/v1/reports/{report['id']}")
        assert view["status"] == "pending", view
        time.sleep(0.2)
    me.move(me.b, "advance", {"seconds": REPORT_DELAY})

    def completed() -> dict | None:
        _, _, view = me.call(me.a, "GET", f"/v1/reports/{report['id']}")
        return view if view["status"] == "completed" else None

    done = wait_for(completed, "the report to complete after the advance")
    assert done["completed_at"] == "2030-01-01T00:00:01Z"


def test_a_retry_schedule_replayed_by_advances_through_both_workers(workers: Serve) -> None:
    me = Two(workers, "sandbox-enterprise")
    receiver = Receiver()
    receiver.status = 500
    try:
        start = seconds(me.move(me.a, "freeze", {"at": T0})["now"])
        status, _, hook = me.call(
            me.a, "POST", "/v1/webhooks", {"url": receiver.url, "events": ["patient.created"]}
        )
        assert status == 201, hook
        patient = {"name": "Clock Test", "date_of_birth": "1990-02-03", "gender": "other"}
        assert me.call(me.b, "POST", "/v1/patients", patient)[0] == 201

        def log(count: int) -> list[dict] | None:
            _, _, page = me.call(me.b, "GET", f"/v1/webhooks/{hook['id']}/deliveries?limit=100")
            return page["data"] if len(page["data"]) == count else None

        wait_for(lambda: receiver.attempts == 2 and log(2), "attempt 1 and its 0 s retry")
        expected = [start, start]
        for step, conn in ((5, me.a), (300, me.b), (1800, me.a), (7200, me.b)):
            assert receiver.attempts == len(expected)  # nothing arrives while frozen
            me.move(conn, "advance", {"seconds": step})
            expected.append(expected[-1] + step)
            count = len(expected)
            wait_for(lambda count=count: receiver.attempts == count and log(count), "a retry")
        entries = log(6)
        assert entries is not None
        assert [e["attempt"] for e in entries] == [1, 2, 3, 4, 5, 6]
        assert [seconds(e["attempted_at"]) for e in entries] == expected
        assert entries[-1]["next_retry_at"] is None
    finally:
        receiver.close()


def test_created_at_follows_the_clock_on_both_workers(workers: Serve) -> None:
    me = Two(workers, "sandbox-enterprise")
    me.move(me.a, "freeze", {"at": "2031-06-01T12:00:00Z"})
    patient = {"name": "Clock Test", "date_of_birth": "1990-02-03", "gender": "other"}
    for conn in (me.a, me.b):
        status, _, created = me.call(conn, "POST", "/v1/patients", patient)
        assert (status, created["created_at"]) == (201, "2031-06-01T12:00:00Z")


def test_a_second_client_neither_sees_nor_moves_the_first_clients_clock(
    workers: Serve,
) -> None:
    me = Two(workers, "sandbox-enterprise")
    other = Two(workers, "sandbox-professional")
    me.move(me.a, "freeze", {"at": T0})
    assert other.now(other.b)["frozen"] is False
    other.move(other.b, "advance", {"seconds": 3600})
    other.move(other.a, "freeze")
    assert me.now(me.b)["now"] == "2030-01-01T00:00:00.000Z"
    assert me.now(me.a)["client_id"] == "sandbox-enterprise"


@pytest.mark.parametrize(
    "body",
    [{"seconds": -1}, {"seconds": 0}, {"seconds": 1e30}, {"seconds": "5"}, {}, [5], "5"],
)
def test_hostile_advances_are_4xx_envelopes_on_both_workers(workers: Serve, body: Any) -> None:
    me = Two(workers, "sandbox-enterprise")
    me.move(me.a, "freeze", {"at": T0})
    for conn in (me.a, me.b):
        status, _, answer = me.call(conn, "POST", "/_sandbox/clock/advance", body)
        assert 400 <= status < 500, answer
        assert answer["error"]["code"] in {"INVALID_PARAMETER", "INVALID_REQUEST"}
    assert me.now(me.b)["now"] == "2030-01-01T00:00:00.000Z"
