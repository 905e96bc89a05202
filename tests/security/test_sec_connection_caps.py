"""Connections are bounded: how many, how long an unread answer waits, what a head counts.

OWASP API Security Top 10 2023:
- API4:2023 Unrestricted Resource Consumption: before issue 18 (finding 3) a
  socket that pipelined 20 requests and never read stayed open past every
  timeout, and 240 such sockets made every normal request fail (no cap on
  connections). Now an answer nobody reads for ``send_timeout`` closes its
  connection, and connections past ``max_connections`` in all or
  ``max_connections_per_address`` from one peer are answered 503. Pipelined
  requests no longer count toward the head bound of the request after them
  (finding 9: a false 431 dropped 80 legitimate requests).
- API8:2023 Security Misconfiguration: a client going away mid-answer is one
  INFO line, not a hundred lines of ERROR traceback (finding 11).

Real servers on loopback: the sockets are the point.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import time
from collections.abc import Callable

import httpx
import pytest

from sec_servers import CliServer, address, read_until_closed, serve_sandbox

BOUND = 20.0


def _connect(base_url: str, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(BOUND)
    sock.connect(address(base_url))
    return sock


def _wait(condition: Callable[[], object], what: str, limit: float = BOUND) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"not within {limit} s: {what}"
        time.sleep(0.02)


def _drain(sock: socket.socket) -> bytes:
    """What the server sent before it closed (a reset after an abort ends it too)."""
    try:
        return read_until_closed(sock, BOUND)
    except ConnectionResetError:
        return b""


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], dict]:
    raw = read_until_closed(sock, BOUND)
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status.split()[1]), headers, json.loads(body)


PIPELINED = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 20


def test_a_client_that_stops_reading_is_closed_after_the_send_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="pin_mock.server.transport.guarded_protocol"),
        serve_sandbox(send_timeout=1.0) as base_url,
        _connect(base_url, rcvbuf=4096) as sock,
    ):
        sock.sendall(PIPELINED)  # about 6 MB of answers, none of them read
        started = time.monotonic()
        _wait(
            lambda: any("stopped reading" in r.getMessage() for r in caplog.records),
            "the connection closed for its unread answers",
        )
        assert time.monotonic() - started < BOUND
        _drain(sock)  # ends: the server closed its side


def _over_cap(base_url: str) -> tuple[int, dict[str, str], dict]:
    with _connect(base_url) as extra:
        extra.sendall(b"GET /openapi.yaml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return _answer(extra)


def test_connections_past_the_per_address_cap_are_answered_503() -> None:
    with serve_sandbox(max_connections_per_address=3) as base_url:
        held = [_connect(base_url) for _ in range(3)]
        try:
            status, headers, body = _over_cap(base_url)
            assert status == 503 and headers["connection"] == "close"
            assert headers["retry-after"] == "1"
            assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert "3 from one address" in body["error"]["message"]
        finally:
            held.pop().close()
        # One slot is free again (once the server has seen the close).
        _wait(lambda: httpx.get(f"{base_url}/openapi.yaml").status_code == 200, "a free slot")
        for sock in held:
            sock.close()


def test_the_total_cap_holds_and_trusted_proxies_are_held_only_to_it() -> None:
    # A proxy speaks for many clients: no per-address cap for it, only the total.
    with serve_sandbox(
        max_connections=3, max_connections_per_address=1, forwarded_allow_ips="127.0.0.1"
    ) as base_url:
        held = [_connect(base_url) for _ in range(3)]
        try:
            for sock in held[1:]:  # past the per-address cap, but trusted
                sock.sendall(b"GET /openapi.yaml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert sock.recv(12) == b"HTTP/1.1 200"
            status, _, body = _over_cap(base_url)
            assert status == 503 and "at most 3 in all" in body["error"]["message"]
        finally:
            for sock in held:
                sock.close()


def test_a_silent_connection_past_the_cap_is_closed_soon() -> None:
    with serve_sandbox(max_connections_per_address=1) as base_url, _connect(base_url):
        with _connect(base_url) as silent:
            started = time.monotonic()
            assert read_until_closed(silent, BOUND) == b""
            assert time.monotonic() - started < 5.0  # REFUSED_GRACE, not the head timeout


def test_pipelined_requests_do_not_count_toward_the_next_head() -> None:
    one = b"GET /v1/patients HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"p" * 350 + b"\r\n\r\n"
    count = 150  # 60 KB of complete requests, well past the 24 KB a head may take
    start_of_next = b"GET /v1/patients HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    with serve_sandbox() as base_url, _connect(base_url) as sock:
        sock.sendall(one)  # a keep-alive connection: the batch comes after a first answer
        assert sock.recv(65_536).startswith(b"HTTP/1.1 401 ")
        sock.sendall(one * count + start_of_next)
        received = sock.recv(65_536)  # answers have begun: the batch was read as one chunk
        sock.sendall(b"X-Last: yes\r\n\r\n")
        while received.count(b"HTTP/1.1 ") < count + 1:
            chunk = sock.recv(65_536)
            assert chunk, f"closed after {received.count(b'HTTP/1.1 ')} answers"
            received += chunk
    assert b" 431 " not in received
    assert received.count(b"HTTP/1.1 401 ") == count + 1


def test_a_client_leaving_mid_answer_is_one_info_line() -> None:
    server = CliServer("--log-level", "info")
    try:
        server.wait_ready()
        with _connect(server.base_url, rcvbuf=4096) as sock:
            port = sock.getsockname()[1]
            sock.sendall(PIPELINED)
            _wait(
                lambda: any(f":{port} - " in line for line in server.lines),
                "the first answer under way",
            )
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        _wait(
            lambda: any("closed the connection before" in line for line in server.lines),
            "the line saying the client left",
        )
        # A later request is the barrier: anything the departure logged is logged by then.
        httpx.get(f"{server.base_url}/openapi.yaml?after=1", timeout=BOUND)
        _wait(lambda: any("after=1" in line for line in server.lines), "the barrier's line")
    finally:
        server.stop()
    left = [line for line in server.lines if "closed the connection before" in line]
    assert len(left) == 1 and " INFO " in left[0], left
    assert not [line for line in server.lines if " ERROR " in line or "Traceback" in line]
