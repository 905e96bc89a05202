"""Report jobs on Redis, with two sandboxes on one database standing for two workers:
a report completes (and is announced) once, a dead worker's report completes on the
other, a report left by a shutdown completes after the restart, the quota is shared.
(What holds on both engines, a report finished once and a client's burst waiting
behind itself, is in test_report_jobs.py.)"""

from __future__ import annotations

import pytest
import redis

from harness import Sandbox
from pin_mock.server.state.redis.queue import GROUP
from report_helpers import create, finished

pytestmark = pytest.mark.parametrize("sandbox_factory", ["redis"], indirect=True)


def _redis(sb: Sandbox) -> redis.Redis:
    return redis.Redis.from_url(sb.settings.state)


def _stream(sb: Sandbox) -> str:
    return "pin:q:reports"


def test_two_workers_complete_each_report_once_and_announce_it_once(sandbox_factory) -> None:
    a, b = sandbox_factory(report_delay=0.05), sandbox_factory(report_delay=0.05)
    announced: list[tuple[str, str]] = []
    for sb in (a, b):
        sb.services.events.subscribe(
            lambda _c, kind, data: announced.append((kind, data["report_id"]))
        )
    ids = [create(sb, "outcomes", "csv").json()["id"] for sb in (a, b, a, b, a, b)]
    for report_id in ids:
        assert finished(b, report_id)["status"] == "completed"
    for sb in (a, b):
        sb.http.portal.call(sb.services.report_jobs.drain)
    # Each once, from whichever worker built it (a webhook then fires once: test_webhook_shared).
    assert sorted(announced) == sorted(("report.completed", i) for i in ids)
    with _redis(a) as client:
        assert client.xpending(_stream(a), GROUP)["pending"] == 0


def test_a_report_held_by_a_dead_worker_completes_on_another(sandbox_factory) -> None:
    first = sandbox_factory()
    jobs = first.services.report_jobs
    first.http.portal.call(jobs.queue.aclose)  # this one takes no jobs: the report waits
    report = create(first, "outcomes", "json").json()
    with _redis(first) as client:
        # A worker takes the job and dies without a word (SIGKILL): never acknowledged.
        taken = client.xreadgroup(GROUP, "dead-worker", {_stream(first): ">"}, count=1)
        assert taken and taken[0][1]
        other = sandbox_factory(job_claim_timeout=0.3)
        assert finished(other, report["id"])["status"] == "completed"
        other.http.portal.call(other.services.report_jobs.drain)
        assert client.xpending(_stream(first), GROUP)["pending"] == 0
    assert other.get(report["links"]["download"]).status_code == 200


def test_a_report_left_at_shutdown_completes_after_the_restart(sandbox_factory) -> None:
    before = sandbox_factory(report_delay=60.0)  # still unfinished when the process stops
    report = create(before, "outcomes", "json").json()
    before.http.__exit__(None, None, None)
    # The job was handed back to the queue (in memory it would fail SANDBOX_SHUTDOWN).
    after = sandbox_factory(report_delay=0.0)
    done = finished(after, report["id"])
    assert done["status"] == "completed" and done["error"] is None


def test_the_reports_quota_is_one_count_for_every_worker(sandbox_factory) -> None:
    a, b = sandbox_factory(quota_reports=2), sandbox_factory(quota_reports=2)
    assert create(a, "outcomes", "json").status_code == 202
    assert create(b, "outcomes", "json").status_code == 202
    refused = create(a, "outcomes", "json")
    assert refused.status_code == 409
    assert refused.json()["error"]["details"] == {"quota": "reports", "limit": 2, "used": 2}
