"""The webhook probe judges what had arrived when it read the delivery log, nothing that came later.

A delivery can reach the receiver while the probe is reading the log (an
earlier probe's report completing, a retry): the log, read a moment before,
cannot list it yet, and that is no finding. A proxy in front of the sandbox
makes that moment happen every time: when the probe first reads the log of
its webhook, the proxy has the sandbox announce one more event to it, waits
until the receiver has it (the sandbox logs an attempt only after the
receiver answered, and the receiver records a delivery before answering), and
keeps that delivery out of every log the probe reads.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from kit_mutants import Mutant, Proxy, Request, Response
from kit_servers import reset_sandbox, serve
from pin_mock.contract.spec import bundled_spec_path, load_spec

WEBHOOK_OPERATIONS = ("createWebhook", "listDeliveries", "deleteWebhook", "createPatient")


def _documented_patient() -> dict[str, Any]:
    operation = load_spec(bundled_spec_path())["paths"]["/v1/patients"]["post"]
    return dict(operation["requestBody"]["content"]["application/json"]["example"])


def late_delivery() -> Mutant:
    state: dict[str, Any] = {"main": set(), "late": None}

    async def log_of(proxy: Proxy, webhook: str) -> list[dict[str, Any]]:
        answer = await proxy.client.get(
            f"/v1/webhooks/{webhook}/deliveries",
            params={"limit": 100},
            headers={"authorization": f"Bearer {await proxy.token()}"},
        )
        return answer.json()["data"]

    async def on_request(proxy: Proxy, request: Request) -> Response | None:
        parts = request.path.split("/")
        if not (request.method == "GET" and len(parts) == 5 and parts[4] == "deliveries"):
            return None
        webhook = parts[3]
        if webhook not in state["main"]:
            return None
        if state["late"] is None:
            before = {d["event_id"] for d in await log_of(proxy, webhook)}
            created = await proxy.client.post(
                "/v1/patients",
                json=_documented_patient(),
                headers={"authorization": f"Bearer {await proxy.token()}"},
            )
            assert created.status_code == 201, created.text
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                new = {d["event_id"] for d in await log_of(proxy, webhook)} - before
                if new:  # logged, so the receiver has recorded it
                    state["late"] = new.pop()
                    break
                await asyncio.sleep(0.05)
            assert state["late"], "the sandbox never delivered the late event"
        answer = await proxy.forward(request)
        body = answer.json()
        kept = [d for d in body["data"] if d.get("event_id") != state["late"]]
        body["pagination"]["total"] -= len(body["data"]) - len(kept)
        body["data"] = kept
        answer.set_json(body)
        return answer

    async def on_response(proxy: Proxy, request: Request, response: Response) -> None:
        # The probe's webhook for every event: its URL ends in /all.
        body = response.json()
        if request.method == "POST" and request.path == "/v1/webhooks" and response.status == 201:
            if str(json.loads(request.body or b"{}").get("url", "")).endswith("/all"):
                state["main"].add(body["id"])

    mutant = Mutant(
        "late-delivery", "a delivery arrives while the log is read", frozenset(), {},
        on_request=on_request, on_response=on_response,
    )  # fmt: skip
    mutant.state = state  # type: ignore[attr-defined]
    return mutant


def test_a_delivery_arriving_while_the_log_is_read_is_no_finding(sandbox_url, run_kit):
    reset_sandbox(sandbox_url)
    mutant = late_delivery()
    with serve(Proxy(sandbox_url, mutant)) as url:
        result = run_kit(url, phases=("probes",), include=WEBHOOK_OPERATIONS)
    assert mutant.state["late"], "the late delivery never happened: the test proved nothing"  # type: ignore[attr-defined]
    findings = [f for p in result.probes for f in p.findings]
    assert not findings, "\n".join(f"{f.check}: {f.message}" for f in findings)
    webhook_probe = next(p for p in result.probes if p.name.startswith("webhooks end to end"))
    assert not webhook_probe.skipped, webhook_probe.skipped
