"""What a run creates it removes at the end, or says what it left (--cleanup never)."""

from __future__ import annotations

import json

import httpx

from kit_helpers import SPEC
from kit_servers import reset_sandbox
from pin_mock.contract.cleanup import Ledger
from pin_mock.contract.output.summary import render


def test_the_ledger_names_creations_by_the_answers_id_and_deletes_what_it_may() -> None:
    ledger = Ledger(SPEC)
    ledger.observe("POST", "http://t/v1/webhooks", 201, {"id": "wh_1"})
    ledger.observe("POST", "http://t/v1/patients", 201, {"id": "patient_9"})
    ledger.observe("POST", "http://t/v1/reports", 202, {"id": "rpt_2"})
    ledger.observe(
        "POST", "http://t/v1/webhooks", 400, {"id": "wh_bad"}
    )  # refused: nothing created
    ledger.observe("POST", "http://t/v1/webhooks", 201, {"id": "wh_2"})
    ledger.observe("DELETE", "http://t/v1/webhooks/wh_2", 204, None)  # the run deleted it itself
    sent = []

    def send(method: str, path: str, template: str) -> int:
        sent.append((method, path, template))
        return 204

    ledger.clean(send)
    assert sent == [("DELETE", "/v1/webhooks/wh_1", "/v1/webhooks/{webhook_id}")]
    states = {c.path: (c.state, c.why) for c in ledger.created}
    assert states["/v1/patients/patient_9"] == ("left", "the contract has no DELETE for them")
    assert states["/v1/webhooks/wh_2"][0] == "deleted"
    assert ledger.describe().startswith("removed 2 webhooks; left 1 patients, 1 reports")


def test_a_run_removes_its_webhooks_and_lists_the_rest(sandbox_url, run_kit, tmp_path) -> None:
    reset_sandbox(sandbox_url)
    token = httpx.post(f"{sandbox_url}/oauth/token", data={"grant_type": "client_credentials",
                       "client_id": "sandbox-enterprise", "client_secret": "sandbox-enterprise-secret"}).json()["access_token"]  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    result = run_kit(sandbox_url, include=("createWebhook", "getWebhook", "listWebhooks", "deleteWebhook"),
                     phases=("examples", "fuzzing", "probes"))  # fmt: skip
    assert result.exit_code == 0, render(result)
    created = json.loads((tmp_path / "report" / "resources.json").read_text())
    assert created and {c["state"] for c in created} <= {"removed", "deleted", "gone"}
    assert httpx.get(f"{sandbox_url}/v1/webhooks", headers=auth).json()["pagination"]["total"] == 0
    assert "created: removed" in render(result)
    kept = run_kit(sandbox_url, include=("createWebhook",), phases=("examples",), cleanup="never")
    assert "--cleanup never" in render(kept)
    assert httpx.get(f"{sandbox_url}/v1/webhooks", headers=auth).json()["pagination"]["total"] >= 1
    reset_sandbox(sandbox_url)
