"""Chaos with ``--workers 2 --state redis://``: one sequence per client, shared by the workers.

The n-th covered request of a client gets ``decide(setting, n)`` whichever
worker serves it (the count is in Redis), a setting stored through one worker
applies on the other as soon as ``PUT`` answers, and one client's chaos never
touches another's.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from mp_procs import Serve, pinned, request, token, wait_for

from pin_mock.server.domain.chaos import ChaosSetting, decide
from pin_mock.server.pipeline.faults import MALFORMED_TAIL
from redis_db import fresh_db

ONE = "/v1/patients/patient_123"
CHAOS = "/_sandbox/chaos"


@pytest.fixture(scope="module")
def workers() -> Iterator[Serve]:
    server = Serve("--workers", "2", env={"PIN_MOCK_STATE": fresh_db().url})
    try:
        server.wait_ready()
        wait_for(lambda: len(server.workers()) == 2, "two worker processes")
        yield server
    finally:
        server.stop()


def oracle(body: dict, count: int) -> list[str]:
    setting = ChaosSetting.from_dict({"operations": [], **body})
    return [decide(setting, n).fault or "ok" for n in range(1, count + 1)]


def raw(server: Serve, bearer: str) -> str:
    """One request on a fresh connection (a worker the kernel picks); what came back."""
    head = f"GET {ONE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {bearer}\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall((head + "Connection: close\r\n\r\n").encode())
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            return "connection_reset"
    if not received:
        return "empty_response"
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    lines = head_bytes.lower().split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length"))
    if len(body) < length:
        return "truncated_json"
    try:
        json.loads(body)
    except ValueError:
        return "malformed_json"
    return "ok"


def test_a_seeded_sequence_is_the_same_on_two_runs_across_both_workers(workers: Serve) -> None:
    bearer = token(workers.base_url)
    held = pinned(workers)
    (a,), (b,) = held.values()
    body = {"probability": 0.5, "faults": ["malformed_json"], "seed": 11}
    runs = []
    for _ in range(2):
        status, _, shown = request(workers.base_url, "PUT", CHAOS, token=bearer, body=body, conn=a)
        assert status == 200, shown
        seen = []
        for index in range(20):  # alternately through worker A and worker B
            conn = (a, b)[index % 2]
            status, _, answer = request(workers.base_url, "GET", ONE, token=bearer, conn=conn)
            assert status == 200
            malformed = isinstance(answer, str) and answer.endswith(MALFORMED_TAIL.decode())
            seen.append("malformed_json" if malformed else "ok")
        runs.append(seen)
    assert runs[0] == runs[1] == oracle(body, 20)
    status, _, shown = request(workers.base_url, "GET", CHAOS, token=bearer, conn=b)
    assert shown["requests_seen"] == 20
    # Off through worker B: at once on worker A too.
    assert request(workers.base_url, "DELETE", CHAOS, token=bearer, conn=b)[0] == 200
    every = [request(workers.base_url, "GET", ONE, token=bearer, conn=a)[2] for _ in range(5)]
    assert all(isinstance(answer, dict) for answer in every)


def test_connection_faults_follow_the_seed_whichever_worker_serves(workers: Serve) -> None:
    bearer = token(workers.base_url, "sandbox-professional")
    body = {
        "probability": 0.6,
        "faults": ["connection_reset", "empty_response", "malformed_json", "truncated_json"],
        "seed": 2027,
    }
    runs = []
    for _ in range(2):
        status, _, shown = request(workers.base_url, "PUT", CHAOS, token=bearer, body=body)
        assert status == 200, shown
        runs.append([raw(workers, bearer) for _ in range(16)])
    assert runs[0] == runs[1] == oracle(body, 16)
    assert request(workers.base_url, "DELETE", CHAOS, token=bearer)[0] == 200


def test_one_clients_chaos_never_touches_anothers_on_either_worker(workers: Serve) -> None:
    mine, theirs = token(workers.base_url), token(workers.base_url, "sandbox-standard")
    held = pinned(workers)
    (a,), (b,) = held.values()
    every = {"probability": 1.0, "faults": ["malformed_json"], "seed": 3}
    assert request(workers.base_url, "PUT", CHAOS, token=theirs, body=every, conn=a)[0] == 200
    for conn in (a, b, a, b):
        status, _, answer = request(workers.base_url, "GET", ONE, token=mine, conn=conn)
        assert status == 200 and isinstance(answer, dict)
        status, _, answer = request(workers.base_url, "GET", ONE, token=theirs, conn=conn)
        assert status == 200 and isinstance(answer, str)  # theirs: malformed, every time
    status, _, shown = request(workers.base_url, "GET", CHAOS, token=mine, conn=b)
    assert shown == {"client_id": "sandbox-enterprise", "enabled": False}
    assert request(workers.base_url, "DELETE", CHAOS, token=theirs, conn=b)[0] == 200
