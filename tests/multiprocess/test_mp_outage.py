"""Redis lost and back while a sandbox runs: 503 while it is gone, nothing acknowledged lost.

Acknowledged means: patients answered 201 (still there, listed and searched), a
report answered 202 and under way (completes), a webhook delivery waiting for
its retry (made once the receiver is back); a write answered 503 left nothing.

The Redis here is this test's own (``PrivateRedis``: a free port, a temporary
directory, AOF fsync'd on every write), so it can be killed and restarted; the
system Redis is never touched.
"""

from __future__ import annotations

from pathlib import Path

from mp_procs import PrivateRedis, Receiver, Serve, request, token, wait_for

REPORT = {"type": "outcomes", "format": "json"}


def test_redis_lost_and_back_answers_503_meanwhile_and_loses_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    redis = PrivateRedis(tmp_path)
    redis.start()
    receiver = Receiver()
    receiver.status = 503  # down: the delivery below waits for its retry (5 s) in Redis
    env = {
        "PIN_MOCK_STATE": redis.url,
        "PIN_MOCK_REPORT_DELAY": "2",
        "PIN_MOCK_JOB_CLAIM_TIMEOUT": "2",
    }
    server = Serve(env=env)
    try:
        server.wait_ready()
        url = server.base_url
        bearer = token(url)
        hook = {"url": receiver.url, "events": ["report.completed"]}
        status, _, webhook = request(url, "POST", "/v1/webhooks", token=bearer, body=hook)
        assert status == 201, webhook
        status, _, early = request(url, "POST", "/v1/reports", token=bearer, body=REPORT)
        assert status == 202, early
        wait_for(lambda: receiver.attempts >= 1, "the first, failed, delivery attempt")
        status, _, late = request(url, "POST", "/v1/reports", token=bearer, body=REPORT)
        assert status == 202, late  # under way when Redis goes
        acknowledged = []
        for i in range(5):
            body = {
                "name": f"Durable Patient {i}",
                "date_of_birth": "1975-05-05",
                "gender": "other",
            }
            status, _, created = request(url, "POST", "/v1/patients", token=bearer, body=body)
            assert status == 201, created
            acknowledged.append(created["id"])

        redis.crash()  # SIGKILL: only what the AOF holds survives
        for method, path, body in (
            ("GET", f"/v1/patients/{acknowledged[0]}", None),
            ("GET", "/v1/patients?limit=5", None),
            ("POST", "/v1/patients", {"name": "Lost Write", "date_of_birth": "1975-05-05"}),
        ):
            status, headers, answer = request(url, method, path, token=bearer, body=body)
            assert status == 503, (method, path, status, answer)
            assert int(headers["retry-after"]) >= 1
            assert answer["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert "Traceback" not in str(answer)

        redis.start()  # same port, same directory: the AOF is replayed
        wait_for(
            lambda: request(url, "GET", f"/v1/patients/{acknowledged[0]}", token=bearer)[0] == 200,
            "the sandbox to answer again",
        )
        for patient_id in acknowledged:
            status, _, read = request(url, "GET", f"/v1/patients/{patient_id}", token=bearer)
            assert status == 200, read
        status, _, found = request(
            url, "GET", "/v1/patients?search=durable%20patient", token=bearer
        )
        assert sorted(p["id"] for p in found["data"]) == sorted(acknowledged)
        status, _, found = request(url, "GET", "/v1/patients?search=lost%20write", token=bearer)
        assert found["data"] == []  # the write answered 503 left nothing behind
        body = {"name": "After The Outage", "date_of_birth": "1975-05-05", "gender": "other"}
        status, _, created = request(url, "POST", "/v1/patients", token=bearer, body=body)
        assert status == 201 and created["id"] not in acknowledged

        # The report under way when Redis went completes; the delivery that was
        # waiting for its retry is made once the receiver answers again.
        def finished() -> dict | None:
            _, _, seen = request(url, "GET", f"/v1/reports/{late['id']}", token=bearer)
            return seen if seen.get("status") in ("completed", "failed") else None

        assert wait_for(finished, "the report under way to complete")["status"] == "completed"
        receiver.status = 200
        delivered = wait_for(
            lambda: (
                {e["data"]["report_id"] for e in receiver.events("report.completed")}
                >= {early["id"], late["id"]}
            ),
            "both reports' deliveries",
        )
        assert delivered
    finally:
        server.stop()
        redis.crash()
        receiver.close()
