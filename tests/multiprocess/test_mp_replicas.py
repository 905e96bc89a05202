"""Several ``pin-mock serve`` processes on one Redis: replicas, restarts, a worker killed.

Replicas are separate commands on separate ports, as behind a load balancer;
nothing ties them together but the Redis URL.
"""

from __future__ import annotations

import os
import signal

from mp_procs import Receiver, Serve, pinned, request, token, wait_for


def _env(redis_url: str, **extra: str) -> dict[str, str]:
    return {"PIN_MOCK_STATE": redis_url, **extra}


def test_replicas_share_tokens_and_what_clients_create(redis_url: str) -> None:
    a = Serve(env=_env(redis_url))
    b = Serve(env=_env(redis_url))
    try:
        a.wait_ready()
        b.wait_ready()
        bearer = token(a.base_url)
        patient = {"name": "Renata Oyelaran", "date_of_birth": "1969-11-02", "gender": "female"}
        status, _, created = request(a.base_url, "POST", "/v1/patients", token=bearer, body=patient)
        assert status == 201, created
        status, _, read = request(b.base_url, "GET", f"/v1/patients/{created['id']}", token=bearer)
        assert (status, read["id"]) == (200, created["id"])
        status, _, found = request(
            b.base_url, "GET", "/v1/patients?search=renata%20oyelaran", token=bearer
        )
        assert [p["id"] for p in found["data"]] == [created["id"]]
    finally:
        a.stop()
        b.stop()


def test_a_full_restart_keeps_data_tokens_and_pending_deliveries(redis_url: str) -> None:
    receiver = Receiver()
    receiver.status = 503  # the receiver is down: the first attempt fails, a retry is due in 5 s
    env = _env(redis_url, PIN_MOCK_WEBHOOK_RETRY_FACTOR="1")
    first = Serve(env=env)
    try:
        first.wait_ready()
        bearer = token(first.base_url, "sandbox-professional")
        hook = {"url": receiver.url, "events": ["patient.created"]}
        status, _, webhook = request(
            first.base_url, "POST", "/v1/webhooks", token=bearer, body=hook
        )
        assert status == 201, webhook
        body = {"name": "Tobiah Restart", "date_of_birth": "1980-02-02", "gender": "male"}
        status, _, patient = request(
            first.base_url, "POST", "/v1/patients", token=bearer, body=body
        )
        assert status == 201, patient
        wait_for(lambda: receiver.attempts >= 1, "the first, failed, delivery attempt")
    finally:
        assert first.stop() in (0, -15)
    receiver.status = 200  # back up while no sandbox runs
    second = Serve(env=env)
    try:
        second.wait_ready()
        url = second.base_url
        status, _, read = request(url, "GET", f"/v1/patients/{patient['id']}", token=bearer)
        assert (status, read["name"]) == (200, body["name"])  # the old token, the old patient
        status, _, listed = request(url, "GET", "/v1/webhooks", token=bearer)
        assert [w["id"] for w in listed["data"]] == [webhook["id"]]
        delivered = wait_for(lambda: receiver.events("patient.created"), "the retried delivery")
        assert [e["data"]["patient_id"] for e in delivered] == [patient["id"]]
        # New ids never collide with those handed out before the restart.
        status, _, again = request(url, "POST", "/v1/patients", token=bearer, body=body)
        assert status == 201 and again["id"] != patient["id"]
    finally:
        second.stop()
        receiver.close()


def _finished(base_url: str, bearer: str, report_id: str) -> dict | None:
    _, _, seen = request(base_url, "GET", f"/v1/reports/{report_id}", token=bearer)
    return seen if seen["status"] in ("completed", "failed") else None


#: Reports take 3 s; a job's claim lapses 2 s after its worker stops renewing it.
SLOW_REPORTS = {"PIN_MOCK_REPORT_DELAY": "3", "PIN_MOCK_JOB_CLAIM_TIMEOUT": "2"}


def test_a_replica_killed_mid_report_has_its_report_completed_by_another(redis_url: str) -> None:
    env = _env(redis_url, **SLOW_REPORTS)
    doomed = Serve(env=env)
    try:
        doomed.wait_ready()
        bearer = token(doomed.base_url, "sandbox-professional")
        body = {"type": "outcomes", "format": "json"}
        status, _, report = request(doomed.base_url, "POST", "/v1/reports", token=bearer, body=body)
        assert (status, report["status"]) == (202, "pending")
    finally:
        doomed.kill()  # SIGKILL mid-report: nothing flushed, nothing handed over
    survivor = Serve(env=env)
    try:
        survivor.wait_ready()
        done = wait_for(lambda: _finished(survivor.base_url, bearer, report["id"]), "the report")
        assert done["status"] == "completed"
        path = f"/v1/reports/{report['id']}/download"
        status, _, _ = request(survivor.base_url, "GET", path, token=bearer)
        assert status == 200
    finally:
        survivor.stop()


def test_a_worker_killed_mid_report_has_its_report_completed_by_the_other(
    redis_url: str,
) -> None:
    server = Serve("--workers", "2", env=_env(redis_url, **SLOW_REPORTS))
    try:
        server.wait_ready()
        wait_for(lambda: len(server.workers()) == 2, "two worker processes")
        bearer = token(server.base_url, "sandbox-professional")
        (victim, [on_victim]), (_, [on_other]) = pinned(server).items()
        body = {"type": "outcomes", "format": "json"}
        status, _, report = request(
            server.base_url, "POST", "/v1/reports", token=bearer, body=body, conn=on_victim
        )
        assert (status, report["status"]) == (202, "pending")
        os.kill(victim, signal.SIGKILL)
        done = wait_for(lambda: _finished(server.base_url, bearer, report["id"]), "the report")
        assert done["status"] == "completed"
    finally:
        server.stop()
