"""The app's tests, against a real PIN sandbox: the ``pin_sandbox`` fixture.

Nothing to set up: installing pin-mock with its server extra registers the
fixture (a pytest plugin). One sandbox serves the whole session, reset
before each test, so each test starts from the seeded data.
"""

from __future__ import annotations

import pytest
from painwatch import PinClient, WebhookInbox


@pytest.fixture
def app(pin_sandbox) -> PinClient:
    return PinClient(pin_sandbox.base_url, pin_sandbox.client_id, pin_sandbox.client_secret)


@pytest.fixture
def inbox():
    server = WebhookInbox()
    yield server
    server.close()


def test_the_app_reads_the_seeded_patients(app: PinClient) -> None:
    assert "John Doe" in app.patient_names(search="doe")


def test_a_patient_the_app_admits_is_counted(app: PinClient, pin_sandbox) -> None:
    before = app.patient_count()
    app.admit("Ada Example", "1970-01-02")
    assert app.patient_count() == before + 1
    # What the app sent, verified as WireMock's verify would: exactly one create.
    assert pin_sandbox.count(operation="createPatient", status="201") == 1


def test_each_test_starts_from_the_seeded_data(app: PinClient) -> None:
    # The test above admitted a patient; the fixture reset the sandbox since.
    assert "Ada Example" not in app.patient_names(search="ada")


def test_another_client_does_not_see_this_clients_patients(app: PinClient, pin_sandbox) -> None:
    app.admit("Only Mine", "1980-03-04")
    other = pin_sandbox.client_for("sandbox-standard")
    names = [
        p["name"] for p in other.get("/v1/patients", params={"search": "only mine"}).json()["data"]
    ]
    assert names == []


def test_the_inbox_verifies_and_handles_a_triggered_event(
    app: PinClient, inbox: WebhookInbox, pin_sandbox
) -> None:
    inbox.secret = app.subscribe(inbox.url, ["report.completed"])
    event = pin_sandbox.trigger("report.completed")
    inbox.wait(lambda i: len(i.handled) == 1)
    assert inbox.handled[0]["id"] == event["id"]
    assert inbox.handled[0]["data"]["status"] == "completed"


def test_a_resent_event_is_handled_once(app: PinClient, inbox: WebhookInbox, pin_sandbox) -> None:
    inbox.secret = app.subscribe(inbox.url, ["patient.created"])
    app.admit("Twice Sent", "1990-05-06")  # the sandbox announces patient.created
    inbox.wait(lambda i: len(i.handled) == 1)
    pin_sandbox.resend(inbox.handled[0]["id"])
    inbox.wait(lambda i: i.duplicates == 1)
    assert len(inbox.handled) == 1


def test_the_inbox_refuses_a_delivery_signed_with_another_secret(
    app: PinClient, inbox: WebhookInbox, pin_sandbox
) -> None:
    app.subscribe(inbox.url, ["clinical_data.updated"])
    inbox.secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"  # not the webhook's
    pin_sandbox.trigger("clinical_data.updated")
    inbox.wait(lambda i: i.refused >= 1)
    assert inbox.handled == []
