"""``pin-mock listen --forward-to``, end to end: subprocesses against a live sandbox.

The app it forwards to verifies each delivery with ``standardwebhooks`` and the
secret ``listen`` printed; the events come from ``pin-mock trigger`` (another
subprocess) and from the sandbox's own writes.
"""

from __future__ import annotations

import json
import re
import signal

import httpx

from cli_procs import Running, pin_mock
from tokens import fetch_token
from verifying_app import VerifyingApp


def _listen(sandbox_url: str, app: VerifyingApp, *extra: str) -> tuple[Running, str, str]:
    """A running ``listen``: the process, the secret it printed, its receiver's URL."""
    listen = Running("listen", "--forward-to", app.url(), "--base-url", sandbox_url, *extra)
    ready = listen.wait_line(lambda line: line.startswith("Ready!"))
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", ready)
    assert secret, ready
    route = listen.wait_line(lambda line: " -> " in line)
    receiver = re.search(r"-> (http://127\.0\.0\.1:\d+/) ->", route)
    assert receiver, route
    app.secret = secret.group(0)
    return listen, secret.group(0), receiver.group(1)


def _webhooks(sandbox_url: str) -> list[dict]:
    with httpx.Client(base_url=sandbox_url) as client:
        token = fetch_token(client, "sandbox-enterprise")
        answer = client.get("/v1/webhooks", headers={"Authorization": f"Bearer {token}"})
    return answer.raise_for_status().json()["data"]


def test_forwards_signed_deliveries_and_removes_its_webhook_on_sigterm(
    sandbox_url: str, app: VerifyingApp
) -> None:
    listen, _secret, receiver = _listen(
        sandbox_url, app, "--events", "patient.created", "--events", "report.failed"
    )
    (hook,) = _webhooks(sandbox_url)
    assert hook["url"] == receiver and hook["events"] == ["patient.created", "report.failed"]

    triggered = pin_mock("trigger", "patient.created", "--json", "--base-url", sandbox_url)
    assert triggered.returncode == 0, triggered.stderr
    event = json.loads(triggered.stdout)
    assert event["webhook_ids"] == [hook["id"]]

    (delivery,) = app.wait_for(1)
    assert delivery.event is not None, "the forwarded delivery did not verify"
    assert delivery.path == "/webhooks/pin"
    assert delivery.headers["webhook-id"] == event["id"]
    assert delivery.event == {k: v for k, v in event.items() if k != "webhook_ids"}
    listen.wait_line(
        lambda line: f"--> patient.created [{event['id']}]  signature verified" in line
    )
    listen.wait_line(lambda line: f"<-- [204] POST {app.url()}" in line)

    # An event of a type it does not listen to is not forwarded.
    other = pin_mock("trigger", "report.completed", "--base-url", sandbox_url)
    assert other.returncode == 0 and "no webhook of yours is subscribed" in other.stdout

    assert listen.stop(signal.SIGTERM) == 0
    assert f"webhook {hook['id']} removed" in listen.lines
    assert _webhooks(sandbox_url) == []
    assert len(app.deliveries) == 1


def test_the_apps_answer_goes_back_to_the_sandbox_which_retries(
    sandbox_url: str, app: VerifyingApp
) -> None:
    listen, _secret, _receiver = _listen(sandbox_url, app, "--events", "report.failed")
    app.plan = [500, 503]  # fails twice, then recovers: the sandbox's retries reach it
    event = json.loads(
        pin_mock("trigger", "report.failed", "--json", "--base-url", sandbox_url).stdout
    )
    deliveries = app.wait_for(3)
    listen.wait_line(lambda line: f"<-- [500] POST {app.url()}" in line)
    listen.wait_line(lambda line: f"<-- [503] POST {app.url()}" in line)
    assert {d.headers["webhook-id"] for d in deliveries} == {event["id"]}
    assert all(d.event is not None for d in deliveries)  # each attempt signed afresh
    listen.wait_line(lambda line: f"<-- [204] POST {app.url()}" in line)
    assert listen.stop(signal.SIGINT) == 0  # Ctrl-C removes the webhook too
    assert _webhooks(sandbox_url) == []


def test_a_delivery_that_does_not_verify_is_reported_and_still_forwarded(
    sandbox_url: str, app: VerifyingApp
) -> None:
    listen, _secret, receiver = _listen(sandbox_url, app)
    forged = {
        "webhook-id": "msg_forged000001",
        "webhook-timestamp": "1700000000",
        "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
        "content-type": "application/json",
    }
    answer = httpx.post(receiver, content=b'{"type": "patient.created"}', headers=forged)
    assert answer.status_code == 400  # the app's answer, passed back
    listen.wait_line(lambda line: "signature FAILED" in line)
    (delivery,) = app.wait_for(1)
    assert delivery.event is None and delivery.headers["webhook-id"] == "msg_forged000001"
    assert listen.stop() == 0


def test_an_app_that_does_not_answer_is_a_502_to_the_sandbox(sandbox_url: str) -> None:
    closed = VerifyingApp()
    url = closed.url()
    closed.close()
    listen = Running(
        "listen", "--forward-to", url, "--base-url", sandbox_url, "--events", "patient.created"
    )
    listen.wait_line(lambda line: line.startswith("Ready!"))
    assert pin_mock("trigger", "patient.created", "--base-url", sandbox_url).returncode == 0
    listen.wait_line(lambda line: "no answer from" in line and "(502 to the sandbox)" in line)
    assert listen.stop() == 0


def test_a_refused_start_says_why(sandbox_url: str, app: VerifyingApp) -> None:
    wrong = pin_mock(
        "listen", "--forward-to", app.url(), "--base-url", sandbox_url, "--client-secret", "nope"
    )
    assert wrong.returncode == 2
    assert "no token for sandbox-enterprise" in wrong.stderr and "invalid_client" in wrong.stderr
    unknown = pin_mock(
        "listen",
        "--forward-to",
        app.url(),
        "--base-url",
        sandbox_url,
        "--events",
        "patient.deleted",
    )
    assert unknown.returncode == 1
    assert "the webhook was not registered" in unknown.stderr and "events.0" in unknown.stderr
    assert _webhooks(sandbox_url) == []
