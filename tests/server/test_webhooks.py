"""Webhooks: registration, and real signed deliveries to a receiver on loopback."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness import Sandbox
from jsonschema import Draft4Validator
from spec_conformance import spec
from standardwebhooks import Webhook, WebhookVerificationError

from pin_mock.server.reports import FAILING_PATIENT_ID
from pin_mock.server.webhooks import MAX_IN_FLIGHT, TargetRefused, WebhookDispatcher, dispatcher_of

ALL_EVENTS = ["patient.created", "clinical_data.updated", "report.completed", "report.failed"]
EVENT_SCHEMAS = {
    "patient.created": "PatientCreatedEvent",
    "clinical_data.updated": "ClinicalDataUpdatedEvent",
    "report.completed": "ReportEvent",
    "report.failed": "ReportEvent",
}
FAST = {"webhook_retry_schedule": (0.0, 0.02, 0.05), "webhook_timeout": 2.0}


# -- a real receiver on 127.0.0.1 --------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server in a thread; each path answers from its own plan of statuses."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.plans: dict[str, list[int]] = {}
        self.pause = 0.0
        self.in_flight = self.most_in_flight = 0
        self.arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # TCP_NODELAY: no 40 ms stalls
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.arrived:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    receiver.arrived.notify_all()
                    plan = receiver.plans.get(self.path, [200])
                    status = plan.pop(0) if len(plan) > 1 else plan[0]
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                time.sleep(receiver.pause)
                with receiver.arrived:
                    receiver.in_flight -= 1
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", "/redirected")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def wait_for(self, count: int, path: str | None = None, timeout: float = 5.0) -> list[Received]:
        """The first ``count`` requests (to ``path``), waiting at most ``timeout``."""

        def matching() -> list[Received]:
            return [r for r in self.received if path is None or r.path == path]

        with self.arrived:
            self.arrived.wait_for(lambda: len(matching()) >= count, timeout)
            got = matching()
        assert len(got) >= count, f"{len(got)} of {count} deliveries arrived in {timeout} s"
        return got

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


# -- helpers -------------------------------------------------------------------------


def register(sb: Sandbox, url: str, events: list[str], as_client: str = "sandbox-enterprise"):
    response = sb.post("/v1/webhooks", json={"url": url, "events": events}, as_client=as_client)
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(sb: Sandbox, webhook_id: str, as_client: str = "sandbox-enterprise") -> list[dict]:
    response = sb.get(f"/v1/webhooks/{webhook_id}/deliveries?limit=100", as_client=as_client)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def wait_until(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        time.sleep(0.01)


def settled_log(sb: Sandbox, webhook_id: str, attempts: int) -> list[dict]:
    """The delivery log once it holds ``attempts`` entries and no retry is pending."""
    return wait_until(
        lambda: (
            (log := deliveries(sb, webhook_id))
            and len(log) >= attempts
            and log[-1]["next_retry_at"] is None
            and log
        )
    )


def drain(sb: Sandbox) -> None:
    """Wait for every delivery under way to end (no fixed sleep)."""
    dispatcher = dispatcher_of(sb.services)
    assert isinstance(dispatcher, WebhookDispatcher)
    sb.http.portal.call(dispatcher.drain)


def verify(secret: str, request: Received) -> dict[str, Any]:
    """Verify with the standardwebhooks package, as a receiver would."""
    return Webhook(secret).verify(request.body, request.headers)


def create_patient(sb: Sandbox, as_client: str = "sandbox-enterprise") -> str:
    body = {"name": "Hook Test", "date_of_birth": "1990-02-03", "gender": "other"}
    response = sb.post("/v1/patients", json=body, as_client=as_client)
    assert response.status_code == 201, response.text
    return response.json()["id"]


# -- registration --------------------------------------------------------------------


def test_create_shows_a_standard_webhooks_secret_only_once(sandbox: Sandbox) -> None:
    response = sandbox.post(
        "/v1/webhooks",
        json={"url": "https://example.com/hook", "events": ["patient.created"], "description": "x"},
    )
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 24
    shown = sandbox.get(response.headers["location"]).json()
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    listed = sandbox.get("/v1/webhooks").json()
    assert listed["data"] == [shown]
    other = sandbox.post("/v1/webhooks", json={"url": "http://a.test/", "events": ALL_EVENTS})
    assert other.json()["secret"] != created["secret"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "http://",
        "https:///no-host",
        "example.com/hook",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "javascript:alert(1)",
        "https://\u00ff\u00fb\u0011\u0087",  # control characters in the host (found by the kit)
    ],
)
def test_create_rejects_urls_without_http_scheme_and_host(sandbox: Sandbox, url: str) -> None:
    response = sandbox.post("/v1/webhooks", json={"url": url, "events": ["patient.created"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_PARAMETER"
    assert error["details"]["parameter"] == "url"


@pytest.mark.parametrize(
    "events", [[], ["patient.deleted"], ["patient.created", "patient.created"], "patient.created"]
)
def test_create_rejects_unknown_or_empty_events(sandbox: Sandbox, events: Any) -> None:
    response = sandbox.post("/v1/webhooks", json={"url": "https://a.test/", "events": events})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"].startswith("events")


def test_hosted_mode_refuses_private_and_local_targets(sandbox_factory) -> None:
    sb = sandbox_factory(webhook_allow_private_targets=False)
    for url in (
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://[::ffff:192.168.0.1]/",
    ):
        response = sb.post("/v1/webhooks", json={"url": url, "events": ["patient.created"]})
        assert response.status_code == 400, url
        assert response.json()["error"]["details"]["parameter"] == "url"


def test_webhooks_belong_to_their_client(sandbox: Sandbox) -> None:
    mine = register(sandbox, "https://a.test/hook", ["patient.created"])
    other = "sandbox-professional"
    assert sandbox.get(f"/v1/webhooks/{mine['id']}", as_client=other).status_code == 404
    assert sandbox.get(f"/v1/webhooks/{mine['id']}/deliveries", as_client=other).status_code == 404
    assert sandbox.delete(f"/v1/webhooks/{mine['id']}", as_client=other).status_code == 404
    assert sandbox.get("/v1/webhooks", as_client=other).json()["data"] == []
    assert sandbox.get(f"/v1/webhooks/{mine['id']}").status_code == 200


def test_delete_answers_204_then_404(sandbox: Sandbox) -> None:
    hook = register(sandbox, "https://a.test/hook", ["patient.created"])
    response = sandbox.delete(f"/v1/webhooks/{hook['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert sandbox.get(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert sandbox.delete(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert sandbox.get("/v1/webhooks").json()["pagination"]["total"] == 0


def test_list_pages_webhooks(sandbox: Sandbox) -> None:
    ids = [register(sandbox, f"https://a.test/{i}", ["patient.created"])["id"] for i in range(3)]
    page = sandbox.get("/v1/webhooks?page=2&limit=2").json()
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 3}
    assert [w["id"] for w in page["data"]] == ids[2:]


# -- deliveries ----------------------------------------------------------------------


def test_every_event_arrives_signed_and_verifies(sandbox: Sandbox, receiver: Receiver) -> None:
    hook = register(sandbox, receiver.url(), ALL_EVENTS)
    patient_id = create_patient(sandbox)
    entry = sandbox.post(
        f"/v1/patients/{patient_id}/clinical-data",
        json={"data_type": "pain_scores", "value": {"score": 6}},
    ).json()
    done = sandbox.post("/v1/reports", json={"type": "outcomes", "format": "json"}).json()
    broken = sandbox.post(
        "/v1/reports",
        json={
            "type": "outcomes",
            "format": "csv",
            "parameters": {"patient_id": FAILING_PATIENT_ID},
        },
    ).json()

    arrived = receiver.wait_for(4)
    events = {}
    for request in arrived:
        event = verify(hook["secret"], request)
        assert event["id"] == request.headers["webhook-id"]
        assert request.headers["content-type"] == "application/json"
        schema = spec()["components"]["schemas"][EVENT_SCHEMAS[event["type"]]]
        assert not list(Draft4Validator(schema).iter_errors(event)), event
        events[event["type"]] = event
    assert set(events) == set(ALL_EVENTS)
    assert events["patient.created"]["data"] == {
        "patient_id": patient_id,
        "links": {"self": f"/v1/patients/{patient_id}"},
    }
    assert events["clinical_data.updated"]["data"]["entry_id"] == entry["id"]
    assert events["report.completed"]["data"]["report_id"] == done["id"]
    assert events["report.completed"]["data"]["status"] == "completed"
    assert events["report.failed"]["data"] == {
        "report_id": broken["id"],
        "status": "failed",
        "links": broken["links"],
    }
    # A wrong secret does not verify: the check above is not vacuous.
    with pytest.raises(WebhookVerificationError):
        Webhook(base64.b64encode(b"x" * 24).decode()).verify(arrived[0].body, arrived[0].headers)

    log = settled_log(sandbox, hook["id"], 4)
    assert {d["event_type"] for d in log} == set(ALL_EVENTS)
    assert all(d["status"] == "succeeded" and d["status_code"] == 200 for d in log)
    assert {d["event_id"] for d in log} == {e["id"] for e in events.values()}
    assert all(d["attempt"] == 1 and d["duration_ms"] >= 0 for d in log)


def test_events_go_only_to_the_owners_subscribed_webhooks(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    register(sandbox, receiver.url("/mine"), ["clinical_data.updated"])
    theirs = register(sandbox, receiver.url("/theirs"), ["patient.created"], "sandbox-standard")
    create_patient(sandbox)  # mine is not subscribed; theirs is another client's
    create_patient(sandbox, as_client="sandbox-standard")
    receiver.wait_for(1, "/theirs")
    drain(sandbox)
    assert [r.path for r in receiver.received] == ["/theirs"]
    assert len(deliveries(sandbox, theirs["id"], as_client="sandbox-standard")) == 1


def test_fails_twice_then_succeeds_in_three_attempts_with_one_event_id(
    sandbox_factory, receiver: Receiver
) -> None:
    # The default-like schedule compressed by the factor: 1 s -> 10 ms, 2 s -> 20 ms.
    sb = sandbox_factory(webhook_retry_schedule=(1.0, 2.0, 4.0), webhook_retry_factor=0.01)
    receiver.plans["/flaky"] = [500, 503, 200]
    hook = register(sb, receiver.url("/flaky"), ["patient.created"])
    create_patient(sb)

    log = settled_log(sb, hook["id"], 3)
    assert [(d["attempt"], d["status"], d["status_code"]) for d in log] == [
        (1, "failed", 500),
        (2, "failed", 503),
        (3, "succeeded", 200),
    ]
    assert len({d["event_id"] for d in log}) == 1
    assert log[0]["error"].startswith("HTTP 500") and log[2]["error"] is None
    assert log[0]["next_retry_at"] is not None and log[1]["next_retry_at"] is not None
    requests = receiver.wait_for(3, "/flaky")
    assert {r.headers["webhook-id"] for r in requests} == {log[0]["event_id"]}
    for request in requests:
        verify(hook["secret"], request)  # a fresh signature per attempt


def test_a_receiver_that_never_succeeds_ends_failed(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory(**FAST)
    receiver.plans["/down"] = [500]
    hook = register(sb, receiver.url("/down"), ["patient.created"])
    create_patient(sb)

    log = settled_log(sb, hook["id"], 4)
    assert [d["attempt"] for d in log] == [1, 2, 3, 4]  # 1 + len(schedule)
    assert all(d["status"] == "failed" and d["status_code"] == 500 for d in log)
    assert [d["next_retry_at"] is None for d in log] == [False, False, False, True]
    drain(sb)
    assert len(receiver.received) == 4


def test_no_answer_is_retried_and_logged_with_the_error(
    sandbox_factory, receiver: Receiver
) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(0.0,), webhook_timeout=0.2)
    closed = Receiver()
    url = closed.url("/gone")
    closed.close()  # nothing listens there any more
    refused = register(sb, url, ["patient.created"])
    receiver.pause = 1.0
    slow = register(sb, receiver.url("/slow"), ["patient.created"])
    create_patient(sb)

    for hook, words in ((refused, "Connect"), (slow, "timeout")):
        log = settled_log(sb, hook["id"], 2)
        assert [(d["attempt"], d["status"], d["status_code"]) for d in log] == [
            (1, "failed", None),
            (2, "failed", None),
        ]
        assert words in log[0]["error"]
    receiver.pause = 0.0


def test_redirects_are_failures_and_not_followed(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory(webhook_retry_schedule=())
    receiver.plans["/moved"] = [302]
    hook = register(sb, receiver.url("/moved"), ["patient.created"])
    create_patient(sb)
    log = settled_log(sb, hook["id"], 1)
    assert (log[0]["status"], log[0]["status_code"]) == ("failed", 302)
    assert "redirect" in log[0]["error"]
    drain(sb)
    assert [r.path for r in receiver.received] == ["/moved"]


def test_a_removed_webhook_gets_no_more_retries(sandbox_factory, receiver: Receiver) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(0.2, 0.2))
    receiver.plans["/bye"] = [500]
    hook = register(sb, receiver.url("/bye"), ["patient.created"])
    create_patient(sb)
    wait_until(lambda: deliveries(sb, hook["id"]))
    assert sb.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
    drain(sb)
    assert len(receiver.received) == 1


def test_shutdown_finishes_attempts_in_flight_and_logs_pending_retries(
    sandbox_factory, receiver: Receiver
) -> None:
    sb = sandbox_factory(webhook_retry_schedule=(60.0,))
    receiver.plans["/retry-later"] = [500]
    waiting = register(sb, receiver.url("/retry-later"), ["patient.created"])
    create_patient(sb)
    wait_until(lambda: deliveries(sb, waiting["id"]))  # attempt 1 failed; retry in 60 s

    in_flight = register(sb, receiver.url("/slow"), ["clinical_data.updated"])
    receiver.pause = 0.3
    sb.post(
        "/v1/patients/patient_123/clinical-data",
        json={"data_type": "pain_scores", "value": {"score": 3}},
    )
    receiver.wait_for(1, "/slow")  # the attempt is under way
    started = time.monotonic()
    sb.http.__exit__(None, None, None)  # the lifespan stops the workers
    assert time.monotonic() - started < 5

    tenant = sb.services.store.tenant("sandbox-enterprise")
    assert [(d["attempt"], d["status"]) for d in tenant.deliveries[waiting["id"]]] == [
        (1, "failed"),
        (2, "not_delivered"),
    ]
    assert [(d["status"], d["status_code"]) for d in tenant.deliveries[in_flight["id"]]] == [
        ("succeeded", 200)
    ]


def test_delivery_body_is_the_signed_bytes(sandbox: Sandbox, receiver: Receiver) -> None:
    hook = register(sandbox, receiver.url(), ["patient.created"])
    create_patient(sandbox)
    (request,) = receiver.wait_for(1)
    event = orjson.loads(request.body)
    assert set(event) == {"id", "type", "created_at", "data"}
    timestamp = int(request.headers["webhook-timestamp"])
    assert abs(timestamp - time.time()) < 60
    signed = f"{event['id']}.{timestamp}.".encode() + request.body
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == f"v1,{expected}"


def test_hosted_mode_pins_deliveries_to_the_checked_address(sandbox_factory) -> None:
    sb = sandbox_factory(webhook_allow_private_targets=False)
    dispatcher = dispatcher_of(sb.services)
    assert isinstance(dispatcher, WebhookDispatcher)

    async def target(url: str) -> tuple[str, dict, dict]:
        headers: dict[str, str] = {}
        pinned, extensions = await dispatcher._target(url, headers)
        return pinned, extensions, headers

    pinned, extensions, headers = asyncio.run(target("https://93.184.215.14:8443/hook?x=1"))
    assert pinned == "https://93.184.215.14:8443/hook?x=1"
    assert headers["host"] == "93.184.215.14:8443"
    assert extensions == {"sni_hostname": "93.184.215.14"}
    for url in ("http://localhost:9/hook", "http://[fd00::1]/", "http://0.0.0.0/"):
        with pytest.raises(TargetRefused, match="private or local"):
            asyncio.run(target(url))


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_readme_receiver_verifies_a_real_delivery(sandbox: Sandbox, tmp_path) -> None:
    """docs/receiver.py, as the README runs it, accepts the sandbox's signed delivery."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    created = sandbox.post(
        "/v1/webhooks",
        json={"url": f"http://127.0.0.1:{port}/hook", "events": ["patient.created"]},
    ).json()
    script = Path(__file__).parents[2] / "docs" / "receiver.py"
    log = (tmp_path / "receiver.out").open("w+")
    receiver = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        env={**os.environ, "WEBHOOK_SECRET": created["secret"]},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: listening(port))
        patient_id = create_patient(sandbox)
        attempt = settled_log(sandbox, created["id"], 1)[-1]
        assert attempt["status_code"] == 204, attempt  # 400 would mean a bad signature
    finally:
        receiver.terminate()
        receiver.wait(timeout=5)
    log.seek(0)
    assert f"patient.created {{'patient_id': '{patient_id}'" in log.read()


def test_a_burst_of_deliveries_is_bounded_in_flight_and_all_arrive(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    hooks = MAX_IN_FLIGHT + 8
    for _ in range(hooks):
        sandbox.post("/v1/webhooks", json={"url": receiver.url(), "events": ["patient.created"]})
    receiver.pause = 0.05
    create_patient(sandbox)
    assert len(receiver.wait_for(hooks)) == hooks
    drain(sandbox)
    assert 1 < receiver.most_in_flight <= MAX_IN_FLIGHT
