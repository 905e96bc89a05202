"""Real receivers on 127.0.0.1 for webhook deliveries: one answers from a plan, one never."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any


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

        class Server(http.server.ThreadingHTTPServer):
            # The default listen backlog (5) refuses connections when a burst of
            # 32 deliveries arrives on a busy machine; the refused ones would be
            # retried 5 s later, so a test would depend on the machine's load.
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
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


class SilentReceiver:
    """A receiver on 127.0.0.1 that accepts connections and never answers (a dead backend).

    ``close`` drops every connection it holds, so attempts still waiting on it
    end at once (the test's teardown does not wait for their timeout).
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.listener.settimeout(0.05)  # accept() wakes up to see close()
        self.connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path: str = "/dead") -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}{path}"

    def accepted(self) -> int:
        with self._lock:
            return len(self.connections)

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            with self._lock:
                if self._closed:
                    connection.close()
                    return
                self.connections.append(connection)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            held, self.connections = self.connections, []
        self.thread.join(timeout=5)
        self.listener.close()
        for connection in held:
            connection.close()
