"""What ``pin-mock listen`` runs: the loopback receiver and the forwarder to the app.

Imported only when ``listen`` runs (httpx, standardwebhooks, PyYAML): see
``listen.py`` for what the verb does.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import click
import httpx
import yaml
from standardwebhooks import Webhook, WebhookVerificationError

from pin_mock._bundled import spec_path
from pin_mock.sandbox_cli.connection import problem

#: Headers not forwarded: the connection's own (httpx sets them for the app).
HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}


def documented_events() -> list[str]:
    """The event types PIN documents (the bundled spec's ``EventType``)."""
    spec = yaml.load(spec_path().read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return list(spec["components"]["schemas"]["EventType"]["enum"])


class Forwarder:
    """Receives the sandbox's deliveries and forwards each to the app."""

    def __init__(self, forward_to: str, timeout: float) -> None:
        self.forward_to = forward_to
        self.verifier: Webhook | None = None
        self.http = httpx.Client(timeout=timeout)
        self._print_lock = threading.Lock()

    def echo(self, line: str) -> None:
        with self._print_lock:
            click.echo(line)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        """Forward one delivery; the status to answer the sandbox with."""
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        event_type, event_id = _describe(body, headers)
        verified = self._verify(headers, body)
        self.echo(f"{stamp}  --> {event_type} [{event_id}]  signature {verified}")
        forwarded = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            answer = self.http.post(self.forward_to, content=body, headers=forwarded)
        except httpx.HTTPError as exc:
            self.echo(f"{stamp}  <-- no answer from {self.forward_to}: {exc} (502 to the sandbox)")
            return 502
        self.echo(f"{stamp}  <-- [{answer.status_code}] POST {self.forward_to}")
        return answer.status_code

    def _verify(self, headers: dict[str, str], body: bytes) -> str:
        if self.verifier is None:
            return "not checked"
        try:
            self.verifier.verify(body, headers)
        except WebhookVerificationError as exc:
            return f"FAILED ({exc})"
        return "verified"


def _describe(body: bytes, headers: dict[str, str]) -> tuple[str, str]:
    try:
        event = json.loads(body)
        return str(event.get("type")), str(event.get("id"))
    except (ValueError, AttributeError):
        return "(not an event)", headers.get("webhook-id", "?")


def receiver(forwarder: Forwarder, host: str, port: int) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = forwarder.handle(headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass  # one line per delivery is printed by the forwarder

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def remove(client: httpx.Client, webhook_id: str) -> None:
    """Remove the webhook (a few tries: the sandbox may be busy)."""
    for attempt in range(3):
        try:
            answer = client.delete(f"/v1/webhooks/{quote(webhook_id, safe='')}")
        except httpx.HTTPError as exc:
            problem_text = str(exc)
        else:
            if answer.status_code in (204, 404):
                click.echo(f"webhook {webhook_id} removed")
                return
            problem_text = problem(answer)
        if attempt < 2:
            time.sleep(0.5)
    click.echo(f"webhook {webhook_id} was not removed: {problem_text}", err=True)
