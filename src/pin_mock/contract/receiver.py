"""The kit's webhook receiver: a small HTTP server that records what the target delivers.

It listens on loopback by default (an ephemeral port), or on the address the
user gives when the target is remote and reaches the kit at a public URL
(``--webhook-receiver-url`` with ``--webhook-bind``). It serves the whole run:
the webhooks Schemathesis registers point here too (answered 200 at once, so
a target's delivery slots never wait on a name that does not resolve). Every
POST to a watched path is recorded with its path, headers, body, arrival time
and the status answered; the others are only counted. A path can be told to
fail its first N deliveries with 500, to see the target retry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: The largest delivery body the receiver reads (a PIN event is a few hundred bytes).
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int


class Receiver:
    """A threaded HTTP server recording deliveries; use as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.deliveries: list[Delivery] = []
        #: Deliveries to paths nobody watches (the webhooks Schemathesis registered).
        self.unwatched = 0
        self._watched: set[str] = set()
        self._fail: dict[str, int] = {}
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = min(int(self.headers.get("content-length") or 0), MAX_BODY)
                body = self.rfile.read(length) if length else b""
                status = receiver._record(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass  # quiet: the kit reports deliveries itself

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        # A short poll interval: ``shutdown()`` waits for the next poll, and the default
        # (0.5 s) added up to half a second to the end of every run.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def watch(self, *paths: str) -> None:
        """Record every delivery to ``paths`` (others are only counted)."""
        with self._lock:
            self._watched.update(paths)

    def fail_first(self, path: str, times: int) -> None:
        """Answer 500 to the first ``times`` deliveries to ``path``."""
        with self._lock:
            self._fail[path] = times

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = 500 if self._fail.get(path, 0) > 0 else 200
            if status == 500:
                self._fail[path] -= 1
            if path not in self._watched:
                self.unwatched += 1
                return status
            lowered = {k.lower(): v for k, v in headers.items()}
            self.deliveries.append(Delivery(path, lowered, body, time.monotonic(), status))
            self._lock.notify_all()
            return status

    def to(self, path: str) -> list[Delivery]:
        """The deliveries to ``path`` so far."""
        with self._lock:
            return [d for d in self.deliveries if d.path == path]

    def wait_for(self, condition: Callable[[list[Delivery]], bool], timeout: float) -> bool:
        """Wait until ``condition(deliveries)`` holds, at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition(list(self.deliveries)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True
