"""Every operation's x-codeSamples run as written against a live sandbox.

The samples are the sandbox's view's (``openapi/code-samples.overlay.yaml`` for
PIN's operations, ``sandbox.overlay.yaml`` for the sandbox's own). How a sample
is run (the view's ``Sandbox`` section tells readers the same):
the base URL ``http://127.0.0.1:8080`` becomes the live sandbox's, the token
comes from ``PIN_TOKEN`` as the samples expect, and the report and webhook
ids (``rpt_<12 hex>``, ``wh_<12 hex>``, ``msg_<12 hex>``) become ones created
here: a completed report, a webhook (a fresh one for each deletion), and an
event whose first delivery has ended (a fresh one for each resend). Nothing else
is changed. curl samples run in bash, Python samples in this process (httpx,
with every answer recorded), JavaScript samples in Node when it is there.
Each must send exactly one request and get the operation's documented
success status.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from docs_node import node

from loopback import running
from pin_mock.overlays import sandbox_document
from pin_mock.server import Settings, create_app

ROOT = Path(__file__).resolve().parents[2]
SPEC = sandbox_document(yaml.safe_load((ROOT / "openapi" / "pin.yaml").read_bytes()), strict=True)
BASE = "http://127.0.0.1:8080"
REPORT_ID = re.compile(r"\brpt_[0-9a-f]{12}\b")
WEBHOOK_ID = re.compile(r"\bwh_[0-9a-f]{12}\b")
EVENT_ID = re.compile(r"\bmsg_[0-9a-f]{12}\b")
LANGS = ("Shell", "Python", "JavaScript")
#: The probes and the scrape take no token (pipeline/observing.py).
UNAUTHENTICATED = ("checkHealth", "checkReadiness", "scrapeMetrics")


def _operations() -> dict[str, dict[str, Any]]:
    found = {}
    for item in SPEC["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = operation
    return found


OPERATIONS = _operations()


def _success(operation: dict[str, Any]) -> int:
    return min(int(code) for code in operation["responses"] if str(code).startswith("2"))


def _source(operation_id: str, lang: str) -> str:
    samples = {s["lang"]: s["source"] for s in OPERATIONS[operation_id]["x-codeSamples"]}
    return samples[lang]


class Live:
    """A sandbox on loopback, a token, and the objects the samples stand for."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)
        answer = self.http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "sandbox-standard",
                "client_secret": "sandbox-standard-secret",
            },
        )
        answer.raise_for_status()
        self.token = answer.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.report_id = self._completed_report()
        self.webhook_id = self.new_webhook()
        # The reset sample empties its caller's sandbox: it runs as another client, so the
        # report and webhook the other samples stand for stay.
        other = {"grant_type": "client_credentials", "client_id": "sandbox-professional",
                 "client_secret": "sandbox-professional-secret"}  # fmt: skip
        self.other_token = (
            self.http.post("/oauth/token", data=other).raise_for_status().json()["access_token"]
        )

    def token_for(self, operation_id: str) -> str:
        """``PIN_TOKEN`` for a sample."""
        # Chaos and the clock are the caller's own: their samples run as the other client,
        # so the other samples never meet the faults or the moved clock they cause.
        sandbox_own = ("resetSandbox", "getChaos", "setChaos", "deleteChaos")
        apart = operation_id in sandbox_own or operation_id.endswith("SandboxClock")
        return self.other_token if apart else self.token

    def _completed_report(self) -> str:
        body = {"type": "outcomes", "format": "pdf", "parameters": {"start_date": "2024-01-01", "end_date": "2024-06-30"}}  # fmt: skip
        report = self.http.post("/v1/reports", json=body).raise_for_status().json()
        deadline = time.monotonic() + 60
        while report["status"] in ("pending", "processing") and time.monotonic() < deadline:
            time.sleep(0.05)
            report = self.http.get(f"/v1/reports/{report['id']}").raise_for_status().json()
        assert report["status"] == "completed", report
        return str(report["id"])

    def new_webhook(self) -> str:
        body = {"url": "http://127.0.0.1:9/webhook", "events": ["report.completed"]}
        return str(self.http.post("/v1/webhooks", json=body).raise_for_status().json()["id"])

    def prepare(self, operation_id: str, source: str) -> str:
        """The sample as it runs here (see the module's docstring)."""
        webhook = self.new_webhook() if operation_id == "deleteWebhook" else self.webhook_id
        source = source.replace(BASE, self.base_url)
        source = REPORT_ID.sub(self.report_id, source)
        if operation_id == "resendEvent":
            source = EVENT_ID.sub(self.delivered_event(), source)
        return WEBHOOK_ID.sub(webhook, source)

    def delivered_event(self) -> str:
        """A new event to a webhook at a reserved name: its one delivery ends at once
        (``not_delivered``), so a resend finds it no longer pending."""
        hook = {"url": "https://samples.example/hook", "events": ["report.failed"]}
        hook_id = self.http.post("/v1/webhooks", json=hook).raise_for_status().json()["id"]
        event = self.http.post("/_sandbox/events", json={"type": "report.failed"})
        event_id = str(event.raise_for_status().json()["id"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = self.http.get(f"/v1/webhooks/{hook_id}/deliveries").raise_for_status().json()
            if log["data"]:
                return event_id
            time.sleep(0.02)
        raise AssertionError("the event's first delivery did not end")


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    settings = Settings(report_delay=0.0, webhook_timeout=1.0, metrics=True)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, log_level="error", loop="asyncio"
    )
    with running(config, name="samples-sandbox") as base_url:
        sandbox = Live(base_url)
        yield sandbox
        sandbox.http.close()


def test_every_operation_has_a_curl_a_python_and_a_javascript_sample() -> None:
    assert (
        len(OPERATIONS) == 33
    )  # PIN's 18; the sandbox's reset, probes (3), journal (2), chaos (3), events (2), clock (4)
    for operation_id, operation in OPERATIONS.items():
        samples = operation.get("x-codeSamples", [])
        assert [s["lang"] for s in samples] == list(LANGS), operation_id
        for sample in samples:
            assert sample["label"] and BASE in sample["source"], operation_id
            if operation_id not in ("issueToken", *UNAUTHENTICATED):
                assert "PIN_TOKEN" in sample["source"], (operation_id, sample["lang"])


CASES = [pytest.param(op, id=op) for op in OPERATIONS]


@pytest.mark.parametrize("operation_id", CASES)
def test_curl_sample(live: Live, operation_id: str, tmp_path: Path) -> None:
    # A shell function in front of curl reports each answer's status; the sample is untouched.
    script = (
        "set -eu\n"
        "curl() { command curl --write-out '\\nPIN_STATUS=%{http_code}\\n' \"$@\"; }\n"
        + live.prepare(operation_id, _source(operation_id, "Shell"))
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={**os.environ, "PIN_TOKEN": live.token_for(operation_id)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    statuses = [int(s) for s in re.findall(r"^PIN_STATUS=(\d+)$", done.stdout, re.MULTILINE)]
    assert statuses == [_success(OPERATIONS[operation_id])], done.stdout[-2000:]


@pytest.mark.parametrize("operation_id", CASES)
def test_python_sample(
    live: Live, operation_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = live.prepare(operation_id, _source(operation_id, "Python"))
    statuses: list[int] = []
    send = httpx.Client.send

    def recording_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = send(self, request, **kwargs)
        statuses.append(response.status_code)
        return response

    monkeypatch.setattr(httpx.Client, "send", recording_send)
    monkeypatch.setenv("PIN_TOKEN", live.token_for(operation_id))
    monkeypatch.chdir(tmp_path)
    exec(compile(source, f"<{operation_id} Python sample>", "exec"), {"__name__": "__sample__"})  # noqa: S102
    assert statuses == [_success(OPERATIONS[operation_id])]


@pytest.mark.parametrize("operation_id", CASES)
def test_javascript_sample(live: Live, operation_id: str, tmp_path: Path) -> None:
    prelude = (
        "const __fetch = globalThis.fetch;\n"
        "globalThis.fetch = async (...args) => {\n"
        "  const response = await __fetch(...args);\n"
        "  console.log(`PIN_STATUS=${response.status}`);\n"
        "  return response;\n"
        "};\n"
    )
    done = subprocess.run(
        [node(), "--input-type=module", "-e", prelude + live.prepare(operation_id, _source(operation_id, "JavaScript"))],
        cwd=tmp_path,
        env={**os.environ, "PIN_TOKEN": live.token_for(operation_id)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    statuses = [int(s) for s in re.findall(r"^PIN_STATUS=(\d+)$", done.stdout, re.MULTILINE)]
    assert statuses == [_success(OPERATIONS[operation_id])], done.stdout[-2000:]
