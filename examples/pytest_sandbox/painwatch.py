"""An integrator's app that uses PIN: the code the example tests exercise.

It is what a team would write against PIN: a small API client (OAuth 2.0
client credentials, then bearer calls) and a webhook inbox that verifies
Standard Webhooks signatures and handles each event once (a retry or a
resend carries the same ``webhook-id``).
"""

from __future__ import annotations

import http.server
import threading
from typing import Any

import httpx
from standardwebhooks import Webhook, WebhookVerificationError


class PinClient:
    """PIN's API for this app: a token once, then bearer calls."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)
        answer = self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
        )
        answer.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def patient_names(self, search: str | None = None) -> list[str]:
        params = {"search": search} if search else {}
        answer = self.http.get("/v1/patients", params=params)
        answer.raise_for_status()
        return [p["name"] for p in answer.json()["data"]]

    def patient_count(self) -> int:
        answer = self.http.get("/v1/patients", params={"limit": 1})
        answer.raise_for_status()
        return int(answer.json()["pagination"]["total"])

    def admit(self, name: str, date_of_birth: str) -> str:
        body = {"name": name, "date_of_birth": date_of_birth, "gender": "unknown"}
        answer = self.http.post("/v1/patients", json=body)
        answer.raise_for_status()
        return str(answer.json()["id"])

    def subscribe(self, url: str, events: list[str]) -> str:
        """Register ``url`` for ``events``; the signing secret (shown once)."""
        answer = self.http.post("/v1/webhooks", json={"url": url, "events": events})
        answer.raise_for_status()
        return str(answer.json()["secret"])


class WebhookInbox:
    """An HTTP endpoint on loopback that verifies each delivery and handles it once."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.handled: list[dict[str, Any]] = []
        self.duplicates = 0
        self.refused = 0
        self._seen: set[str] = set()
        self._arrived = threading.Condition()
        inbox = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                status = inbox.receive(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pin-events"

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        try:
            event = Webhook(self.secret or "").verify(body, headers)
        except WebhookVerificationError:
            with self._arrived:
                self.refused += 1
                self._arrived.notify_all()
            return 400
        with self._arrived:
            if event["id"] in self._seen:
                self.duplicates += 1
            else:
                self._seen.add(event["id"])
                self.handled.append(event)
            self._arrived.notify_all()
        return 204

    def wait(self, predicate: Any, timeout: float = 10.0) -> None:
        with self._arrived:
            if not self._arrived.wait_for(lambda: predicate(self), timeout):
                raise AssertionError(f"the inbox did not get there in {timeout} s: {self.handled}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
