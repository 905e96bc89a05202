"""Helpers of the webhook tests: register, read the delivery log, wait without fixed sleeps."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from standardwebhooks import Webhook

from harness import Sandbox
from loopback_receiver import Received

ALL_EVENTS = ["patient.created", "clinical_data.updated", "report.completed", "report.failed"]


FAST = {"webhook_retry_schedule": (0.0, 0.02, 0.05), "webhook_timeout": 2.0}


def register(sb: Sandbox, url: str, events: list[str], as_client: str = "sandbox-enterprise"):
    response = sb.post("/v1/webhooks", json={"url": url, "events": events}, as_client=as_client)
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(sb: Sandbox, webhook_id: str, as_client: str = "sandbox-enterprise") -> list[dict]:
    response = sb.get(f"/v1/webhooks/{webhook_id}/deliveries?limit=100", as_client=as_client)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def wait_until(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        time.sleep(0.01)


def settled_log(sb: Sandbox, webhook_id: str, attempts: int) -> list[dict]:
    """The delivery log once it holds ``attempts`` entries and no retry is pending."""
    return wait_until(
        lambda: (
            (log := deliveries(sb, webhook_id))
            and len(log) >= attempts
            and log[-1]["next_retry_at"] is None
            and log
        )
    )


def drain(sb: Sandbox) -> None:
    """Wait for every delivery under way to end (no fixed sleep)."""
    sb.http.portal.call(sb.services.deliveries.drain)


def verify(secret: str, request: Received) -> dict[str, Any]:
    """Verify with the standardwebhooks package, as a receiver would."""
    return Webhook(secret).verify(request.body, request.headers)


def create_patient(sb: Sandbox, as_client: str = "sandbox-enterprise") -> str:
    body = {"name": "Hook Test", "date_of_birth": "1990-02-03", "gender": "other"}
    response = sb.post("/v1/patients", json=body, as_client=as_client)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
