"""The request limits on a real server, where the bytes on the wire are the point.

OWASP API Security Top 10 (2023):
- API2:2023 Broken Authentication: two ``Authorization`` headers on one request
  cannot make the limiter and the operation judge different credentials;
- API4:2023 Unrestricted Resource Consumption: a streamed (chunked) body past the
  limit is refused while it streams, and a declared one before it is read.
"""

from __future__ import annotations

import socket

import httpx

from sec_servers import address, serve_sandbox, token
from spec_conformance import assert_conforms

LIMITS = {"standard": 2, "professional": 2, "enterprise": 2}


def send_head(sock: socket.socket, bearer: str, framing: bytes) -> None:
    """The head of a JSON ``POST /v1/patients`` whose body is framed by ``framing``."""
    sock.sendall(
        b"POST /v1/patients HTTP/1.1\r\nHost: sandbox\r\n"
        b"Authorization: Bearer " + bearer.encode() + b"\r\n"
        b"Content-Type: application/json\r\n" + framing + b"\r\n\r\n"
    )


def test_two_authorization_headers_on_the_wire_are_400_and_cannot_dodge_a_spent_budget() -> None:
    with serve_sandbox(tier_limits=LIMITS) as base:
        good = token(base, "sandbox-standard")
        with httpx.Client(base_url=base, timeout=30) as http:
            spend = [
                http.get("/v1/patients?limit=1", headers={"Authorization": f"Bearer {good}"})
                for _ in range(2)
            ]
            assert [r.status_code for r in spend] == [200, 200]
            both = [("Authorization", "Bearer junk"), ("Authorization", f"Bearer {good}")]
            dodge = http.get("/v1/patients?limit=1", headers=both)
            # The last header counts in every layer: this is the spent client, so 429.
            assert dodge.status_code == 429
            assert dodge.headers["x-ratelimit-remaining"] == "0"
            # Junk last: counted per address (a bucket of its own), then refused: 400.
            junk_last = http.get("/v1/patients?limit=1", headers=list(reversed(both)))
            assert junk_last.status_code == 400
            assert junk_last.json()["error"]["details"] == {"header": "Authorization", "count": 2}
            for answer in (*spend, dodge, junk_last):  # as the harness checks every /v1 answer
                assert_conforms(answer)


def test_a_chunked_body_past_the_limit_is_413_while_it_streams() -> None:
    with serve_sandbox(max_body_bytes=4096) as base:
        good = token(base)
        host, port = address(base)
        with socket.create_connection((host, port), timeout=30) as sock:
            send_head(sock, good, b"Transfer-Encoding: chunked")
            answer = b""
            for _ in range(64):  # up to 64 KiB, far past the limit; stop once answered
                chunk = b"x" * 1024
                try:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except (BrokenPipeError, ConnectionResetError):
                    break
                sock.settimeout(0.05)
                try:
                    answer += sock.recv(65536)
                except TimeoutError:
                    continue
                if answer:
                    break
            sock.settimeout(30)
            while b"\r\n\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_declared_body_past_the_limit_is_413_before_it_is_sent() -> None:
    with serve_sandbox(max_body_bytes=4096) as base:
        good = token(base)
        host, port = address(base)
        with socket.create_connection((host, port), timeout=30) as sock:
            # Only the head: the server must answer without waiting for 100 MB.
            send_head(sock, good, b"Content-Length: 100000000")
            sock.settimeout(30)
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
