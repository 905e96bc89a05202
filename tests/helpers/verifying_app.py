"""An integrator's webhook endpoint on loopback: verifies with ``standardwebhooks``, records.

Used by the tests of ``pin-mock listen`` (the app it forwards to) and of the
events the sandbox triggers. The secret is set once known (``listen`` prints
it); each request is recorded with whether it verified, and answered 204 if
it did, 400 if not (or the next status of ``plan``, when a test wants another answer).
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    event: dict[str, Any] | None  # None: the signature did not verify


class VerifyingApp:
    """An HTTP server in a thread that verifies every POST with the webhook's secret."""

    def __init__(self) -> None:
        self.secret: str | None = None
        #: Statuses to answer with, one per request, before the usual 204/400.
        self.plan: list[int] = []
        self.deliveries: list[Delivery] = []
        self.arrived = threading.Condition()
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    event = Webhook(app.secret or "").verify(body, headers)
                except WebhookVerificationError:
                    event = None
                with app.arrived:
                    app.deliveries.append(Delivery(self.path, headers, body, event))
                    app.arrived.notify_all()
                    planned = app.plan.pop(0) if app.plan else None
                status = planned or (204 if event is not None else 400)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # shutdown() waits for the next poll: 0.05 s, not the default 0.5 s.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def url(self, path: str = "/webhooks/pin") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Delivery]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout)
            got = list(self.deliveries)
        assert len(got) >= count, f"{len(got)} of {count} deliveries arrived in {timeout} s"
        return got

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
