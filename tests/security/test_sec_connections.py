"""Connections end: idle, slow-header and slow-body clients cannot hold the server.

OWASP API Security Top 10 2023:
- API4:2023 Unrestricted Resource Consumption: before issue 10 (finding 7) a
  connection that never sent, sent its headers a byte at a time, or never
  finished its body stayed open as long as the client liked, httptools buffered
  a header of any size, and a stalled body kept the server from exiting 20 s
  after SIGTERM. Now: keep-alive, head and body deadlines (408 with the envelope
  where an answer is possible), a head bound (431) and a bounded graceful shutdown.
- API8:2023 Security Misconfiguration: the limits are settings with careful defaults.

Real servers on loopback (the network is the point); small timeouts, generous bounds.
"""

from __future__ import annotations

import json
import signal
import socket
import time

import httpx

from sec_servers import CliServer, address, read_until_closed, serve_sandbox, token

FAST = {"keep_alive_timeout": 0.5, "header_timeout": 1.0, "body_timeout": 1.0}
#: Far above every timeout used here; the tests fail rather than hang past it.
BOUND = 20.0


def _connect(base_url: str) -> socket.socket:
    return socket.create_connection(address(base_url), timeout=BOUND)


def _split(answer: bytes) -> tuple[str, dict[str, str], dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, json.loads(body)


def test_idle_keep_alive_connection_is_closed() -> None:
    with serve_sandbox(**FAST) as base_url, _connect(base_url) as sock:
        sock.sendall(b"GET /v1/patients HTTP/1.1\r\nHost: pin\r\n\r\n")
        started = time.monotonic()
        answer = read_until_closed(sock, BOUND)
        assert answer.startswith(b"HTTP/1.1 401 ")
        assert time.monotonic() - started < BOUND


def test_silent_connection_is_closed_without_an_answer() -> None:
    with serve_sandbox(**FAST) as base_url, _connect(base_url) as sock:
        assert read_until_closed(sock, BOUND) == b""


def test_slow_headers_get_408_and_the_connection_closes() -> None:
    with serve_sandbox(**FAST) as base_url, _connect(base_url) as sock:
        sock.sendall(b"GET /v1/patients HTTP/1.1\r\nHost: pin\r\nX-Slow: ")
        status, headers, body = _split(read_until_closed(sock, BOUND))
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    assert body["error"]["code"] == "REQUEST_TIMEOUT"


def test_stalled_body_gets_408_with_the_envelope() -> None:
    with serve_sandbox(**FAST) as base_url:
        bearer = token(base_url)
        with _connect(base_url) as sock:
            sock.sendall(
                b"POST /v1/patients HTTP/1.1\r\nHost: pin\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + bearer.encode() + b"\r\n"
                b'Content-Length: 200\r\n\r\n{"first_name": '
            )
            status, headers, body = _split(read_until_closed(sock, BOUND))
        # The sandbox still answers afterwards, and nothing was stored half-read.
        listing = httpx.get(
            f"{base_url}/v1/patients", headers={"Authorization": f"Bearer {bearer}"}
        )
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close" and headers["x-request-id"]
    assert body["error"]["code"] == "REQUEST_TIMEOUT"
    assert listing.status_code == 200


def test_stalled_token_form_gets_an_oauth_408() -> None:
    with serve_sandbox(**FAST) as base_url, _connect(base_url) as sock:
        sock.sendall(
            b"POST /oauth/token HTTP/1.1\r\nHost: pin\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100\r\n\r\ngrant_type=client_"
        )
        status, _, body = _split(read_until_closed(sock, BOUND))
    assert status == "HTTP/1.1 408 Request Timeout"
    assert body["error"] == "invalid_request"


def test_an_oversized_header_is_refused_before_it_ends() -> None:
    with serve_sandbox(**{**FAST, "header_timeout": BOUND}) as base_url, _connect(base_url) as sock:
        # 40 KB of one header value, never finished: refused while it streams in.
        sock.sendall(b"GET /v1/patients HTTP/1.1\r\nHost: pin\r\nX-Big: " + b"a" * 40_000)
        status, _, body = _split(read_until_closed(sock, BOUND))
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert body["error"]["code"] == "HEADERS_TOO_LARGE"


def test_too_many_header_fields_are_refused() -> None:
    fields = b"".join(b"X-F%d: 1\r\n" % i for i in range(150))
    with serve_sandbox(**FAST) as base_url:
        # The probes too: the head is refused before any path is looked at.
        for path in (b"/v1/patients", b"/healthz", b"/readyz"):
            with _connect(base_url) as sock:
                sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: pin\r\n" + fields + b"\r\n")
                status, _, body = _split(read_until_closed(sock, BOUND))
            assert status.startswith("HTTP/1.1 431 "), path
            assert body["error"] == {
                "code": "HEADERS_TOO_LARGE",
                "message": "The request has more than 100 header fields.",
                "details": {"limit": 100},
            }


def test_sigterm_with_a_stalled_body_exits_within_the_bound_and_logs_it() -> None:
    server = CliServer("--body-timeout", "120", "--graceful-shutdown-timeout", "1")
    try:
        server.wait_ready()
        bearer = token(server.base_url)
        with _connect(server.base_url) as sock:
            sock.sendall(
                b"POST /v1/patients HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + bearer.encode() + b"\r\n"
                b"Content-Length: 200\r\n\r\n{"
            )
            # The server answers a request sent after it: by then it has read the head sent
            # before and handed the request to the app (a condition, not a fixed wait).
            assert httpx.get(f"{server.base_url}/docs/", timeout=BOUND).status_code == 200
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(timeout=BOUND)
            elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert elapsed < BOUND
    # uvicorn re-raises the signal it handled once it has shut down: -15 is a clean exit.
    assert server.process.returncode in (0, -signal.SIGTERM)
    assert any("Request abandoned at shutdown: POST /v1/patients" in line for line in server.lines)
