"""Hostile webhook receivers: they cannot fill the sandbox's memory, its logs, or map a network.

OWASP API Security Top 10 2023:
- API4:2023 Unrestricted Resource Consumption: before issue 18 (finding 2) a
  delivery read the receiver's whole answer into memory; a receiver answering
  200 with a 300 MB body took the sandbox from 223 to 691 MB. Now at most a
  few KB are read, then the connection is closed
  (``test_an_endless_answer_is_not_read``). A reason phrase of 60 KB was kept
  whole in the delivery log and the server's log line (finding 11): now both
  are cut (``test_a_huge_reason_phrase_is_cut``).
- API7:2023 Server Side Request Forgery: under ``--webhook-targets local`` the
  delivery log said ``ConnectError`` for a closed port, ``timeout`` for a
  filtered one and ``RemoteProtocolError`` for a service that is not HTTP, so
  deliveries mapped the LAN's open ports (finding 11). Now every attempt
  without an HTTP answer says the same words; the exact cause is only in the
  operator's log line (``test_failures_without_an_answer_all_read_the_same``).

Real receivers on loopback (raw sockets: the misbehaviour is on the wire)
against an in-process sandbox, on both engines.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest

from webhook_helpers import create_patient, register, settled_log

#: The most a sandbox may have let the receiver send before it closed (kernel buffers
#: on loopback hold a few MB; the receiver's endless answer is unbounded).
MOST_SENT = 64 * 1024 * 1024
CHUNK = b"x" * 65_536
FRAME = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"


class RawReceiver:
    """A TCP server on 127.0.0.1 whose every connection is handled by ``behave``."""

    def __init__(self, behave: Callable[[socket.socket], None]) -> None:
        self.behave = behave
        self.sent = 0  # bytes of answer written (by the endless receiver)
        self.closed_by_peer = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            _read_request(conn)
            try:
                self.behave(conn)
            except OSError:
                self.closed_by_peer.set()

    def close(self) -> None:
        self._sock.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65_536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += conn.recv(65_536)


def _reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.fixture
def receivers() -> Iterator[list[RawReceiver]]:
    made: list[RawReceiver] = []
    yield made
    for receiver in made:
        receiver.close()


def test_an_endless_answer_is_not_read(sandbox_factory, receivers: list[RawReceiver]) -> None:
    def endless(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        while True:
            conn.sendall(FRAME)
            receiver.sent += len(FRAME)

    receiver = RawReceiver(endless)
    receivers.append(receiver)
    sb = sandbox_factory(webhook_timeout=30.0)
    hook = register(sb, receiver.url(), ["patient.created"])
    create_patient(sb)
    [attempt] = settled_log(sb, hook["id"], 1)
    # Before: the body was read until the timeout, and the attempt failed.
    assert attempt["status"] == "succeeded" and attempt["status_code"] == 200, attempt
    assert receiver.closed_by_peer.wait(10), "the sandbox kept reading the answer"
    assert receiver.sent < MOST_SENT


def test_a_huge_reason_phrase_is_cut(
    sandbox_factory, receivers: list[RawReceiver], caplog: pytest.LogCaptureFixture
) -> None:
    reason = b"R" * 60_000

    def rude(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 500 " + reason + b"\r\ncontent-length: 0\r\n\r\n")

    receiver = RawReceiver(rude)
    receivers.append(receiver)
    sb = sandbox_factory(webhook_retry_schedule=(0.0,), webhook_timeout=5.0)
    hook = register(sb, receiver.url(), ["patient.created"])
    with caplog.at_level(logging.INFO, logger="pin_mock.webhooks"):
        create_patient(sb)
        attempts = settled_log(sb, hook["id"], 1)
    assert attempts[0]["status"] == "failed" and attempts[0]["status_code"] == 500
    assert attempts[0]["error"].startswith("HTTP 500 RRR")
    assert len(attempts[0]["error"]) < 400, len(attempts[0]["error"])
    lines = [r for r in caplog.records if r.name == "pin_mock.webhooks"]
    assert lines
    for record in lines:
        assert len(record.getMessage()) < 1_000
        assert all(len(str(v)) < 1_000 for v in vars(record).values() if isinstance(v, str))


def test_failures_without_an_answer_all_read_the_same(
    sandbox_factory, receivers: list[RawReceiver], caplog: pytest.LogCaptureFixture
) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more: connection refused

    def silent(conn: socket.socket) -> None:
        conn.recv(1)  # never answers; the attempt times out

    def garbage(conn: socket.socket) -> None:
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    made = {
        "reset": RawReceiver(_reset),
        "timed out": RawReceiver(silent),
        "not http": RawReceiver(garbage),
    }
    receivers.extend(made.values())
    urls = {name: r.url() for name, r in made.items()}
    urls["refused"] = f"http://127.0.0.1:{refused_port}/hook"
    sb = sandbox_factory(webhook_retry_schedule=(0.0,), webhook_timeout=1.0)
    hooks = {name: register(sb, url, ["patient.created"])["id"] for name, url in urls.items()}
    with caplog.at_level(logging.INFO, logger="pin_mock.webhooks"):
        create_patient(sb)
        errors = {name: settled_log(sb, hook, 1)[0]["error"] for name, hook in hooks.items()}
    assert len(set(errors.values())) == 1, errors
    first = next(iter(errors.values()))
    assert first and "refused" in first and "timed out" in first
    # The operator still sees what happened, in the server's log line.
    causes = {r.cause for r in caplog.records if getattr(r, "cause", None)}
    assert any("ConnectError" in c for c in causes) and any("timeout" in c for c in causes)


def test_a_retry_after_that_is_not_ascii_digits_is_ignored(
    sandbox_factory, receivers: list[RawReceiver]
) -> None:
    # "²".isdigit() is true and float("²") raises: the attempt was logged as a crash.
    def busy(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 503 Busy\r\nretry-after: \xb2\r\ncontent-length: 0\r\n\r\n")

    receiver = RawReceiver(busy)
    receivers.append(receiver)
    sb = sandbox_factory(webhook_retry_schedule=(0.0,), webhook_timeout=5.0)
    hook = register(sb, receiver.url(), ["patient.created"])
    create_patient(sb)
    attempts = settled_log(sb, hook["id"], 2)
    assert [(a["status"], a["status_code"]) for a in attempts] == [("failed", 503)] * 2
    assert attempts[0]["error"] == "HTTP 503 Busy"
