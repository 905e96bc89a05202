"""Every fault as a real client meets it: httpx and raw sockets against a served sandbox.

The sandbox runs in a thread with ``pin-mock serve``'s own uvicorn configuration
(the guarded protocol, which offers the connection to the fault layer), on
both engines. No timing is assumed: lower bounds are the sleeps the fault
makes, upper bounds are generous deadlines.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from loopback import running
from pin_mock.server import Settings, create_app
from pin_mock.server.domain.chaos import FAULTS, ChaosSetting, decide
from pin_mock.server.pipeline.faults import GARBAGE_BYTES
from pin_mock.server.transport.uvicorn_config import uvicorn_config
from sandboxes import engine_url

ONE = "/v1/patients/patient_123"
#: The server's send timeout here: the longest a headers_then_silence may stay silent.
SEND_TIMEOUT = 1.0


class Served:
    """A served sandbox, the faults its app saw marked, and a token."""

    def __init__(self, url: str, marks: list[str | None]) -> None:
        self.url = url
        self.marks = marks
        form = {
            "grant_type": "client_credentials",
            "client_id": "sandbox-enterprise",
            "client_secret": "sandbox-enterprise-secret",
        }
        answer = httpx.post(f"{url}/oauth/token", data=form, timeout=30)
        self.token = answer.raise_for_status().json()["access_token"]
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)

    def marked(self, count: int) -> list[str | None]:
        """The marks of the first ``count`` /v1 requests, once the app has finished them."""
        deadline = time.monotonic() + 30
        while len(self.marks) < count and time.monotonic() < deadline:
            time.sleep(0.01)  # the app may return after the client saw the connection end
        return self.marks[:count]

    def raw(self, path: str, prefer: str | None = None) -> str:
        """One request on a fresh socket; what the client got, in one word."""
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
        if prefer:
            head += f"Prefer: {prefer}\r\n"
        with socket.create_connection((self.host, self.port), timeout=30) as sock:
            sock.sendall((head + "Connection: close\r\n\r\n").encode())
            received = b""
            try:
                while chunk := sock.recv(65536):
                    received += chunk
            except ConnectionResetError:
                return "connection_reset"
        return classify(received)


def classify(received: bytes) -> str:
    if not received:
        return "empty_response"
    if not received.startswith(b"HTTP/"):
        return "random_data_then_close" if len(received) == GARBAGE_BYTES else "not HTTP"
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    if len(body) < length:
        return "truncated_json"
    try:
        json.loads(body)
    except ValueError:
        return "malformed_json"
    return "ok"


@pytest.fixture(params=["memory", "redis"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    settings = Settings(
        report_delay=0.0, state=engine_url(request.param), send_timeout=SEND_TIMEOUT
    )
    app = create_app(settings)
    marks: list[str | None] = []

    async def marking(scope: Any, receive: Any, send: Any) -> None:
        # What the request journal reads: the fault's name on the scope's state.
        try:
            await app(scope, receive, send)
        finally:
            if scope["type"] == "http" and scope["path"].startswith("/v1/"):
                marks.append(scope["state"].get("pin_fault"))

    config = uvicorn_config(marking, settings, port=0, log_level="info", loop="asyncio")
    with running(config, name="faults-sandbox") as url:
        yield Served(url, marks)


def test_connection_reset_is_an_rst_and_a_read_error(served: Served) -> None:
    assert served.raw(ONE, "fault=connection_reset") == "connection_reset"
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(served.url + ONE, headers={**served.auth, "Prefer": "fault=connection_reset"})
    assert served.marked(2) == ["connection_reset", "connection_reset"]


def test_empty_response_closes_without_a_byte(served: Served) -> None:
    assert served.raw(ONE, "fault=empty_response") == "empty_response"
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        httpx.get(served.url + ONE, headers={**served.auth, "Prefer": "fault=empty_response"})
    assert served.marked(2) == ["empty_response", "empty_response"]


def test_random_data_then_close_sends_bytes_that_are_no_http_then_closes(served: Served) -> None:
    assert served.raw(ONE, "fault=random_data_then_close") == "random_data_then_close"
    with pytest.raises(httpx.RemoteProtocolError):
        prefer = {"Prefer": "fault=random_data_then_close"}
        httpx.get(served.url + ONE, headers={**served.auth, **prefer})
    assert served.marked(2) == ["random_data_then_close"] * 2
    # The operation did not run: nothing was created.
    prefer = {"Prefer": "fault=random_data_then_close"}
    patient = {"name": "Never Stored", "date_of_birth": "1990-01-01", "gender": "female"}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(served.url + "/v1/patients", json=patient, headers={**served.auth, **prefer})
    search = {"search": "never stored"}
    found = httpx.get(served.url + "/v1/patients", params=search, headers=served.auth)
    assert found.json()["data"] == []
    # The journal marks each, with the request id the client never got to see.
    journal = httpx.get(served.url + "/_sandbox/requests", headers=served.auth).json()["data"]
    faulted = [e for e in journal if e["fault"] == "random_data_then_close"]
    assert len(faulted) == 3 and all(e["response"]["headers"] == {} for e in faulted), faulted
    assert all(e["request_id"] and e["request_id"].startswith("req_") for e in faulted)


def test_malformed_json_is_a_whole_answer_that_is_not_json(served: Served) -> None:
    answer = httpx.get(served.url + ONE, headers={**served.auth, "Prefer": "fault=malformed_json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["preference-applied"] == "fault=malformed_json"
    assert int(answer.headers["content-length"]) == len(answer.content)
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    # The connection stays usable: the next request on it is answered.
    with httpx.Client(base_url=served.url, headers=served.auth) as client:
        client.get(ONE, headers={"Prefer": "fault=malformed_json"})
        assert client.get(ONE).json()["id"] == "patient_123"


def test_truncated_json_promises_more_than_it_sends(served: Served) -> None:
    assert served.raw(ONE, "fault=truncated_json") == "truncated_json"
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete|complete message"):
        httpx.get(served.url + ONE, headers={**served.auth, "Prefer": "fault=truncated_json"})


def test_a_slow_body_is_dribbled_over_the_time_asked_and_arrives_whole(served: Served) -> None:
    with httpx.Client(base_url=served.url, headers=served.auth, timeout=30) as client:
        started = time.monotonic()
        with client.stream("GET", ONE, headers={"Prefer": "fault=slow_body; ms=600"}) as answer:
            pieces = [piece for piece in answer.iter_raw() if piece]
        took = time.monotonic() - started
    assert json.loads(b"".join(pieces))["id"] == "patient_123"
    assert len(pieces) >= 3  # in pieces, not at once
    # Its ten sleeps of 60 ms come before its last piece: never sooner; bounded above.
    assert 0.6 <= took < 10, took
    assert served.marked(1) == ["slow_body"]


def test_headers_then_silence_meets_the_clients_read_timeout(served: Served) -> None:
    prefer = {"Prefer": "fault=headers_then_silence"}
    timeout = httpx.Timeout(30, read=0.3)
    with httpx.Client(base_url=served.url, headers=served.auth, timeout=timeout) as client:
        with client.stream("GET", ONE, headers=prefer) as answer:
            assert answer.status_code == 200  # the headers came
            with pytest.raises(httpx.ReadTimeout):
                answer.read()


def test_headers_then_silence_never_outlasts_the_servers_send_timeout(served: Served) -> None:
    started = time.monotonic()
    assert served.raw(ONE, "fault=headers_then_silence") == "truncated_json"
    took = time.monotonic() - started
    assert SEND_TIMEOUT * 0.9 <= took < SEND_TIMEOUT + 10, took


def test_after_every_fault_the_server_answers_and_logs_no_error(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for fault in FAULTS:
            served.raw(ONE, f"fault={fault}; ms=100")
            assert served.raw(ONE) == "ok", fault
    assert served.marked(2 * len(FAULTS)) == [*(m for f in FAULTS for m in (f, None))]
    injected = [r for r in caplog.records if r.name == "pin_mock.faults"]
    assert [r.fault for r in injected] == list(FAULTS)
    # Each names its request, answered or not (the journal's entry carries the same id).
    ids = [r.request_id for r in injected]
    assert all(i and i.startswith("req_") for i in ids) and len(set(ids)) == len(ids), ids
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    # The sandbox ended these connections: no "the client left" lines for them.
    assert not [r for r in caplog.records if "client closed the connection" in r.getMessage()]


def test_seeded_chaos_gives_the_same_faults_in_the_same_order_on_two_runs(served: Served) -> None:
    body = {
        "probability": 0.6,
        "faults": ["connection_reset", "empty_response", "malformed_json", "truncated_json"],
        "seed": 2027,
        "delay": {"distribution": "uniform", "min_ms": 0, "max_ms": 5},
    }
    runs = []
    for _ in range(2):
        put = httpx.put(f"{served.url}/_sandbox/chaos", json=body, headers=served.auth, timeout=30)
        assert put.status_code == 200, put.text
        runs.append([served.raw(ONE) for _ in range(16)])
    assert runs[0] == runs[1]
    setting = ChaosSetting.from_dict({**body, "operations": []})
    expected = [decide(setting, n).fault or "ok" for n in range(1, 17)]
    assert runs[0] == expected
    assert len(set(expected)) == 5, expected  # this seed exercises every one
    shown = httpx.get(f"{served.url}/_sandbox/chaos", headers=served.auth, timeout=30).json()
    assert shown["requests_seen"] == 16
