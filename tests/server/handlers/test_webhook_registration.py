"""Webhooks registration: the secret shown once, events checked, per-client, delete, list."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from harness import Sandbox
from webhook_helpers import (
    ALL_EVENTS,
    register,
)


def test_create_shows_a_standard_webhooks_secret_only_once(sandbox: Sandbox) -> None:
    response = sandbox.post(
        "/v1/webhooks",
        json={"url": "https://example.com/hook", "events": ["patient.created"], "description": "x"},
    )
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 24
    shown = sandbox.get(response.headers["location"]).json()
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    listed = sandbox.get("/v1/webhooks").json()
    assert listed["data"] == [shown]
    other = sandbox.post("/v1/webhooks", json={"url": "http://a.test/", "events": ALL_EVENTS})
    assert other.json()["secret"] != created["secret"]


@pytest.mark.parametrize(
    "events", [[], ["patient.deleted"], ["patient.created", "patient.created"], "patient.created"]
)
def test_create_rejects_unknown_or_empty_events(sandbox: Sandbox, events: Any) -> None:
    response = sandbox.post("/v1/webhooks", json={"url": "https://a.test/", "events": events})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["parameter"].startswith("events")


def test_webhooks_belong_to_their_client(sandbox: Sandbox) -> None:
    mine = register(sandbox, "https://a.test/hook", ["patient.created"])
    other = "sandbox-professional"
    assert sandbox.get(f"/v1/webhooks/{mine['id']}", as_client=other).status_code == 404
    assert sandbox.get(f"/v1/webhooks/{mine['id']}/deliveries", as_client=other).status_code == 404
    assert sandbox.delete(f"/v1/webhooks/{mine['id']}", as_client=other).status_code == 404
    assert sandbox.get("/v1/webhooks", as_client=other).json()["data"] == []
    assert sandbox.get(f"/v1/webhooks/{mine['id']}").status_code == 200


def test_delete_answers_204_then_404(sandbox: Sandbox) -> None:
    hook = register(sandbox, "https://a.test/hook", ["patient.created"])
    response = sandbox.delete(f"/v1/webhooks/{hook['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert sandbox.get(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert sandbox.delete(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert sandbox.get("/v1/webhooks").json()["pagination"]["total"] == 0


def test_list_pages_webhooks(sandbox: Sandbox) -> None:
    ids = [register(sandbox, f"https://a.test/{i}", ["patient.created"])["id"] for i in range(3)]
    page = sandbox.get("/v1/webhooks?page=2&limit=2").json()
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 3}
    assert [w["id"] for w in page["data"]] == ids[2:]
