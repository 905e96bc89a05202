"""``pin-mock trigger`` and ``pin-mock resend`` as subprocesses against a live sandbox."""

from __future__ import annotations

import json

import httpx
import pytest

from cli_procs import pin_mock
from tokens import fetch_token
from verifying_app import VerifyingApp


def _register(sandbox_url: str, app: VerifyingApp, events: list[str]) -> dict:
    with httpx.Client(base_url=sandbox_url) as client:
        token = fetch_token(client, "sandbox-enterprise")
        answer = client.post(
            "/v1/webhooks",
            json={"url": app.url(), "events": events},
            headers={"Authorization": f"Bearer {token}"},
        )
    hook = answer.raise_for_status().json()
    app.secret = hook["secret"]
    return hook


def test_trigger_with_data_then_resend(sandbox_url: str, app: VerifyingApp, tmp_path) -> None:
    hook = _register(sandbox_url, app, ["clinical_data.updated"])
    data = {
        "patient_id": "patient_123",
        "entry_id": "cd_000007b00001",
        "data_type": "pain_scores",
        "links": {"self": "/v1/patients/patient_123/clinical-data/cd_000007b00001"},
    }
    given = tmp_path / "data.json"
    given.write_text(json.dumps(data))
    done = pin_mock(
        "trigger", "clinical_data.updated", "--data", f"@{given}", "--base-url", sandbox_url
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("triggered clinical_data.updated msg_")
    assert f"queued to 1 webhook(s): {hook['id']}" in done.stdout
    (first,) = app.wait_for(1)
    assert first.event is not None and first.event["data"] == data
    event_id = first.event["id"]

    again = pin_mock("resend", event_id, "--webhook-id", hook["id"], "--base-url", sandbox_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"resent clinical_data.updated {event_id}")
    second = app.wait_for(2)[1]
    assert second.body == first.body and second.headers["webhook-id"] == event_id


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["trigger", "patient.deleted"], 1, "INVALID_PARAMETER: 'type' must be one of"),
        (["trigger", "patient.created", "--data", "{not json"], 2, "not JSON"),
        (["trigger", "patient.created", "--data", "[1]"], 2, "must be a JSON object"),
        (["trigger", "patient.created", "--data", '{"patient_id": "p"}'], 1, "data.links"),
        (["resend", "msg_8a1f2e3d4c5b"], 1, "NOT_FOUND: Event msg_8a1f2e3d4c5b not found."),
        (["trigger", "patient.created", "--token", "not-a-token"], 1, "HTTP 401"),
    ],
)
def test_refusals_are_one_line_with_an_exit_code(
    sandbox_url: str, args: list[str], code: int, says: str
) -> None:
    done = pin_mock(*args, "--base-url", sandbox_url)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_sandbox_is_exit_2() -> None:
    done = pin_mock("trigger", "patient.created", "--base-url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "http://127.0.0.1:9" in done.stderr and "Traceback" not in done.stderr
