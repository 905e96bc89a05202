"""``pin-mock serve --workers 2 --state redis://``: two processes, one sandbox.

Each test holds keep-alive connections owned by known worker processes
(``mp_procs.pinned``), so "created through worker A, read through worker B"
is what happens, not what probably happens.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from mp_procs import Receiver, Serve, pinned, request, token, wait_for

from redis_db import fresh_db

#: Standard tier (sandbox-readonly) gets 20 requests per window: small enough to exhaust.
STANDARD_LIMIT = 20


@pytest.fixture(scope="module")
def workers() -> Iterator[Serve]:
    redis_url = fresh_db().url  # one sandbox for the module: flushed once
    server = Serve(
        "--workers",
        "2",
        env={
            "PIN_MOCK_STATE": redis_url,
            "PIN_MOCK_TIER_LIMITS": f"standard={STANDARD_LIMIT},professional=10000,"
            "enterprise=100000",
            "PIN_MOCK_WEBHOOK_RETRY_FACTOR": "0.001",
        },
    )
    try:
        server.wait_ready()
        wait_for(lambda: len(server.workers()) == 2, "two worker processes")
        yield server
    finally:
        server.stop()


def test_memory_state_refuses_several_workers_in_one_line() -> None:
    server = Serve("--workers", "2", env={"PIN_MOCK_STATE": "memory://"})
    assert server.process.wait(timeout=60) == 2
    assert [line for line in server.lines if line.strip()] == [
        "Error: --workers 2 needs --state redis://HOST:PORT/DB: with memory:// the sandboxes, "
        "rate-limit counters and signing key live in one process and are not shared"
    ]


def test_unreachable_redis_stops_start_up_in_one_line() -> None:
    from mp_procs import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    for args in ((), ("--workers", "2")):
        server = Serve(*args, env={"PIN_MOCK_STATE": url})
        assert server.process.wait(timeout=60) == 2
        text = [line for line in server.lines if line.strip()]
        assert len(text) == 1, text
        assert text[0].startswith(f"Error: cannot reach the state engine at {url}")


def test_a_token_from_one_worker_is_valid_on_the_other(workers: Serve) -> None:
    (_, [on_a]), (_, [on_b]) = pinned(workers).items()
    form = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-enterprise",
        "client_secret": "sandbox-enterprise-secret",
    }
    status, _, body = request(workers.base_url, "POST", "/oauth/token", form=form, conn=on_a)
    assert status == 200
    bearer = body["access_token"]
    for conn in (on_b, on_a, on_b):
        status, _, body = request(
            workers.base_url, "GET", "/v1/patients?limit=1", token=bearer, conn=conn
        )
        assert status == 200, body


def test_simultaneous_requests_over_two_workers_admit_exactly_the_limit(workers: Serve) -> None:
    bearer = token(workers.base_url, "sandbox-readonly")
    held = pinned(workers, per_worker=8)
    conns = [conn for group in held.values() for conn in group]
    per_conn = 2  # 16 connections x 2 = 32 requests = the limit (20) + 12
    barrier = threading.Barrier(len(conns))
    statuses: Counter[int] = Counter()
    by_worker: dict[int, Counter[int]] = {pid: Counter() for pid in held}
    lock = threading.Lock()

    def send(pid: int, conn: object) -> None:
        barrier.wait()
        for _ in range(per_conn):
            status, _, _ = request(
                workers.base_url, "GET", "/v1/patients?limit=1", token=bearer, conn=conn
            )
            with lock:
                statuses[status] += 1
                by_worker[pid][status] += 1

    threads = [
        threading.Thread(target=send, args=(pid, conn))
        for pid, group in held.items()
        for conn in group
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == {200: STANDARD_LIMIT, 429: len(conns) * per_conn - STANDARD_LIMIT}
    assert all(sum(c.values()) == 8 * per_conn for c in by_worker.values())


def test_a_patient_created_through_one_worker_is_read_listed_and_searched_through_the_other(
    workers: Serve,
) -> None:
    bearer = token(workers.base_url)
    (_, [on_a]), (_, [on_b]) = pinned(workers).items()
    patient = {"name": "Quillon Marchetti", "date_of_birth": "1971-03-04", "gender": "male"}
    status, _, created = request(
        workers.base_url, "POST", "/v1/patients", token=bearer, body=patient, conn=on_a
    )
    assert status == 201, created
    url = workers.base_url
    status, _, read = request(url, "GET", f"/v1/patients/{created['id']}", token=bearer, conn=on_b)
    assert (status, read["name"]) == (200, patient["name"])
    status, _, found = request(
        url, "GET", "/v1/patients?search=quillon%20marchetti", token=bearer, conn=on_b
    )
    assert status == 200
    assert [p["id"] for p in found["data"]] == [created["id"]]
    ids: set[str] = set()
    page, total = 1, 1
    while (page - 1) * 100 < total:
        status, _, listed = request(
            url, "GET", f"/v1/patients?limit=100&page={page}", token=bearer, conn=on_b
        )
        assert status == 200
        ids |= {p["id"] for p in listed["data"]}
        page, total = page + 1, listed["pagination"]["total"]
    assert created["id"] in ids


def test_a_report_completes_once_and_each_event_is_delivered_once(workers: Serve) -> None:
    receiver = Receiver()
    try:
        bearer = token(workers.base_url, "sandbox-professional")
        (_, [on_a]), (_, [on_b]) = pinned(workers).items()
        url = workers.base_url
        hook = {"url": receiver.url, "events": ["patient.created", "report.completed"]}
        status, _, webhook = request(
            url, "POST", "/v1/webhooks", token=bearer, body=hook, conn=on_a
        )
        assert status == 201, webhook
        created = []
        for i, conn in enumerate((on_a, on_b, on_a, on_b)):
            body = {"name": f"Once Delivered {i}", "date_of_birth": "1990-01-01", "gender": "other"}
            status, _, patient = request(
                url, "POST", "/v1/patients", token=bearer, body=body, conn=conn
            )
            assert status == 201, patient
            created.append(patient["id"])
        report_body = {"type": "outcomes", "format": "json"}
        status, _, report = request(
            url, "POST", "/v1/reports", token=bearer, body=report_body, conn=on_a
        )
        assert status == 202, report

        def completed() -> dict | None:
            _, _, seen = request(url, "GET", f"/v1/reports/{report['id']}", token=bearer, conn=on_b)
            return seen if seen["status"] in ("completed", "failed") else None

        assert wait_for(completed, "the report to complete")["status"] == "completed"
        wait_for(lambda: len(receiver.events("patient.created")) >= 4, "4 patient.created")
        wait_for(lambda: receiver.events("report.completed"), "report.completed")
        # Anything delivered twice would arrive within the same bounded window.
        status, _, deliveries = request(
            url,
            "GET",
            f"/v1/webhooks/{webhook['id']}/deliveries?limit=100",
            token=bearer,
            conn=on_b,
        )
        assert status == 200
        patients = [e["data"]["patient_id"] for e in receiver.events("patient.created")]
        assert sorted(patients) == sorted(created)
        reports = [e["data"]["report_id"] for e in receiver.events("report.completed")]
        assert reports == [report["id"]]
        ids = [b["id"] for b in receiver.bodies]
        assert len(ids) == len(set(ids)) == 5
        assert len(deliveries["data"]) == 5
    finally:
        receiver.close()


def test_sigterm_logs_what_a_worker_abandons_and_ends_every_process() -> None:
    server = Serve(
        "--workers",
        "2",
        "--body-timeout",
        "120",
        "--graceful-shutdown-timeout",
        "1",
        env={"PIN_MOCK_STATE": fresh_db().url},
    )
    try:
        server.wait_ready()
        wait_for(lambda: len(server.workers()) == 2, "two worker processes")
        workers = server.workers()
        bearer = token(server.base_url)
        (_, [conn, later]), _ = pinned(server, per_worker=2).items()
        assert conn.sock is not None
        conn.sock.sendall(  # a body that never finishes: the request is still running
            b"POST /v1/patients HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + bearer.encode() + b"\r\nContent-Length: 200\r\n\r\n{"
        )
        # The same worker answers a request sent after it: by then it has read the head
        # sent before and handed the request to the app (a condition, not a fixed wait).
        status, _, _ = request(server.base_url, "GET", "/docs/", conn=later)
        assert status == 200
    finally:
        code = server.stop()
    assert code in (0, -15)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert any("Request abandoned at shutdown: POST /v1/patients" in x for x in server.lines)
