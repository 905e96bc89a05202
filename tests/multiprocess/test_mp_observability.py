"""Probes and metrics of ``pin-mock serve --workers 2 --state redis://``, as an operator sees them.

- ``--metrics``: every worker's counts in one scrape, whichever worker answers it
  (prometheus-client's multiprocess mode, a directory per run, removed at the end);
- Redis stopped: each worker's ``/readyz`` answers 503 fast and ``/healthz`` 200,
  and the kit's ``--wait-for /readyz`` waits until Redis is back;
- a worker killed: ``/readyz`` answers 503 (``processes``: 1 of 2) until the
  supervisor's replacement serves, so traffic never piles on one worker.

Connections are pinned to known worker processes (``mp_procs.pinned``).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from mp_procs import PrivateRedis, Serve, pinned, request, token, wait_for
from prometheus_client.parser import text_string_to_metric_families

from pin_mock.contract.waiting import readiness_url, wait_until_ready

#: /readyz must answer within this with Redis gone (it probes for at most 0.5 s).
FAIL_FAST = 2.0


def listed(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "pin_mock_http_requests_total"
                and labels.get("operation") == "listPatients"
                and labels.get("status") == "200"
            ):
                return sample.value
    return 0.0


def test_one_scrape_holds_the_counts_of_both_workers(redis_url: str, tmp_path: Path) -> None:
    parent = tmp_path / "prometheus"
    env = {"PIN_MOCK_STATE": redis_url, "PROMETHEUS_MULTIPROC_DIR": str(parent)}
    server = Serve("--workers", "2", "--metrics", env=env)
    try:
        server.wait_ready()
        wait_for(lambda: len(server.workers()) == 2, "two worker processes")
        held = pinned(server)
        (a, b) = sorted(held)
        bearer = token(server.base_url)
        sent = {a: 3, b: 5}
        for pid, count in sent.items():
            for _ in range(count):
                status, _, _ = request(
                    server.base_url, "GET", "/v1/patients?limit=1", token=bearer, conn=held[pid][0]
                )
                assert status == 200
        for pid in (a, b):  # either worker answers the scrape with both workers' counts
            status, headers, text = request(server.base_url, "GET", "/metrics", conn=held[pid][0])
            assert status == 200 and headers["content-type"].startswith("text/plain")
            assert listed(text) == sum(sent.values()), text[:2000]
            assert "pin_mock_state_up 1.0" in text
        (run,) = list(parent.iterdir())  # this run's own directory, under the operator's
        assert run.name.startswith("pin-mock-metrics-") and list(run.glob("*.db"))
    finally:
        assert server.stop() == 0
    assert list(parent.iterdir()) == []  # removed with the run


def test_readyz_fails_fast_on_every_worker_while_redis_is_stopped(tmp_path: Path) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    server = Serve("--workers", "2", env={"PIN_MOCK_STATE": redis.url})
    try:
        server.wait_ready()
        wait_for(lambda: len(server.workers()) == 2, "two worker processes")
        held = pinned(server)
        url = server.base_url
        for conns in held.values():
            status, _, body = request(url, "GET", "/readyz", conn=conns[0])
            assert status == 200, body

        redis.crash()
        for pid, conns in held.items():
            wait_for(lambda c=conns[0]: request(url, "GET", "/readyz", conn=c)[0] == 503, f"{pid} not ready")  # fmt: skip
            began = time.monotonic()
            status, headers, body = request(url, "GET", "/readyz", conn=conns[0])
            assert time.monotonic() - began < FAIL_FAST
            assert status == 503 and int(headers["retry-after"]) >= 1
            assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert body["error"]["details"]["checks"]["state"] != "ok"
            assert request(url, "GET", "/healthz", conn=conns[0])[0] == 200
        # The kit's readiness wait: not ready while Redis is away ...
        ready, last, _ = wait_until_ready(readiness_url(url, "/readyz"), 1.0)
        assert not ready and last.startswith("answered 503: Not ready: state: "), last

        redis.start()
        # ... and ready once it is back.
        ready, last, _ = wait_until_ready(readiness_url(url, "/readyz"), 60.0)
        assert (ready, last) == (True, "200")
        for pid, conns in held.items():
            wait_for(lambda c=conns[0]: request(url, "GET", "/readyz", conn=c)[0] == 200, f"{pid} ready")  # fmt: skip
    finally:
        server.stop()
        redis.crash()


def test_readyz_waits_for_every_worker_process(redis_url: str, tmp_path: Path) -> None:
    # TMPDIR: the run's roll of serving workers is made (and removed) where we can see it.
    server = Serve("--workers", "2", env={"PIN_MOCK_STATE": redis_url, "TMPDIR": str(tmp_path)})
    url = server.base_url
    try:
        ready, last, _ = wait_until_ready(readiness_url(url, "/readyz"), 60.0)
        assert (ready, last) == (True, "200")
        first = server.workers()
        assert len(first) == 2  # ready means both serve
        status, _, body = request(url, "GET", "/readyz")
        assert status == 200 and body["checks"]["processes"] == "ok", body
        (roll,) = tmp_path.glob("pin-mock-workers-*")
        assert sorted(int(p.name) for p in roll.iterdir()) == sorted(first)

        os.kill(first[0], signal.SIGKILL)  # a worker lost; the supervisor replaces it
        seen: list[str] = []

        def answers_503() -> bool:
            status, _, body = request(url, "GET", "/readyz")
            if status == 503:
                seen.append(body["error"]["details"]["checks"]["processes"])
            return status == 503

        wait_for(answers_503, "/readyz 503 with a worker gone")
        assert seen[0] == "1 of 2 worker processes have started", seen
        ready, last, _ = wait_until_ready(readiness_url(url, "/readyz"), 60.0)
        assert (ready, last) == (True, "200")
        now = server.workers()
        assert len(now) == 2 and first[0] not in now  # ready again: the replacement serves
    finally:
        assert server.stop() == 0
    assert list(tmp_path.glob("pin-mock-workers-*")) == []  # removed with the run
