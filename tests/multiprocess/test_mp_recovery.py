"""Redis back after an outage: no request fails on a connection that broke while it was away.

Two workers on a Redis of this test's own (``PrivateRedis``: a free port, killed
and restarted; the system Redis is never touched). Before the outage each
worker fills its connection pool (concurrent requests); during it only one
worker is asked anything, so the other's pooled connections are all broken and
unknown to it. Once the sandbox answers again, every request on either worker,
one after the other and concurrently, succeeds: a command that meets a broken
connection is sent once more on a new one (``state/redis/engine.py``).
"""

from __future__ import annotations

import http.client
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mp_procs import PrivateRedis, Serve, pinned, request, token, wait_for

PATIENT = {"name": "Recovered Patient", "date_of_birth": "1975-05-05", "gender": "other"}
#: Requests per worker's pool before the outage, at once: several pooled connections each.
CONCURRENT = 8


def _burst(url: str, bearer: str, n: int) -> list[int]:
    """``n`` requests at once, each on its own connection: their statuses."""

    def one(i: int) -> int:
        if i % 4 == 3:
            return request(url, "POST", "/v1/patients", token=bearer, body=PATIENT)[0]
        path = ("/v1/patients?limit=5", "/v1/patients/patient_123", "/v1/patients?search=rec")
        return request(url, "GET", path[i % 3], token=bearer)[0]

    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(one, range(n)))


def test_every_request_after_redis_returns_succeeds_on_both_workers(tmp_path: Path) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    server = Serve("--workers", "2", env={"PIN_MOCK_STATE": redis.url})
    try:
        server.wait_ready()
        url = server.base_url
        bearer = token(url)
        held = pinned(server, per_worker=2)
        quiet, asked = (conns for _, conns in sorted(held.items()))
        assert all(status in (200, 201) for status in _burst(url, bearer, 8 * CONCURRENT))
        for conn in [*quiet, *asked]:  # each worker's pool has been used on its own too
            assert request(url, "GET", "/v1/patients?limit=1", token=bearer, conn=conn)[0] == 200

        redis.crash()
        status, headers, answer = request(
            url, "GET", "/v1/patients?limit=1", token=bearer, conn=asked[0]
        )
        assert status == 503, answer
        assert int(headers["retry-after"]) >= 1
        redis.start()

        def ready(conn: http.client.HTTPConnection) -> bool:
            return request(url, "GET", "/v1/patients?limit=1", token=bearer, conn=conn)[0] == 200

        # Ready: the worker that saw the outage answers again. The quiet one was asked
        # nothing since its pooled connections broke.
        wait_for(lambda: ready(asked[0]), "the sandbox to answer again")
        statuses = []
        for i in range(20):
            for conn in (quiet[i % 2], asked[i % 2]):
                if i % 5 == 4:
                    answer = request(
                        url, "POST", "/v1/patients", token=bearer, body=PATIENT, conn=conn
                    )
                else:
                    answer = request(
                        url, "GET", "/v1/patients/patient_123", token=bearer, conn=conn
                    )
                statuses.append(answer[0])
        statuses += _burst(url, bearer, 8 * CONCURRENT)
        assert [s for s in statuses if s not in (200, 201)] == [], statuses
        assert len(statuses) == 40 + 8 * CONCURRENT
    finally:
        server.stop()
        redis.crash()
