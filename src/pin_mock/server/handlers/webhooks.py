"""Webhooks: register (the secret is shown once), list, get, delete, delivery log."""

from __future__ import annotations

from typing import Any

import pin_mock.server.quotas as quotas
from pin_mock.server.callers import Caller
from pin_mock.server.errors import NotFound
from pin_mock.server.handlers._http import created, now_iso, page_of
from pin_mock.server.services import Services
from pin_mock.server.webhooks.signing import new_secret
from pin_mock.server.webhooks.targets import check_url

PUBLIC_FIELDS = ("id", "url", "events", "description", "created_at")


def public(webhook: dict[str, Any]) -> dict[str, Any]:
    """A webhook as listed and read: never its secret."""
    return {k: webhook[k] for k in PUBLIC_FIELDS}


def _webhook(services: Services, caller: Caller, webhook_id: str) -> dict[str, Any]:
    webhook = services.store.tenant(caller.client_id).webhooks.get(webhook_id)
    if webhook is None:
        raise NotFound.resource("Webhook", "webhook_id", webhook_id)
    return webhook


async def list_webhooks(
    services: Services, caller: Caller, page: int = 1, limit: int = 50
) -> dict[str, Any]:
    """GET /v1/webhooks"""
    webhooks = services.store.tenant(caller.client_id).webhooks.values()
    return page_of([public(w) for w in webhooks], page=page, limit=limit)


async def create_webhook(
    services: Services, caller: Caller, body: dict[str, Any]
) -> tuple[Any, int, dict]:
    """POST /v1/webhooks"""
    svc = services
    # Only the URL's form is checked here: the target policy (webhook_targets) is
    # applied at each delivery, where an address outside it is logged ``blocked``.
    url = check_url(body["url"].strip())
    # Nothing awaits below: no other create can run between this check and the store.
    quotas.check(svc.settings, svc.store.tenant(caller.client_id), "webhooks")
    webhook = {
        "id": svc.store.ids.new("wh"),
        "url": url,
        "events": list(body["events"]),
        "description": body.get("description"),
        "created_at": now_iso(svc),
        "secret": new_secret(),
    }
    svc.store.tenant(caller.client_id).webhooks[webhook["id"]] = webhook
    return created(
        {**public(webhook), "secret": webhook["secret"]}, f"/v1/webhooks/{webhook['id']}"
    )


async def get_webhook(services: Services, caller: Caller, webhook_id: str) -> dict[str, Any]:
    """GET /v1/webhooks/{webhook_id}"""
    return public(_webhook(services, caller, webhook_id))


async def delete_webhook(services: Services, caller: Caller, webhook_id: str) -> tuple[None, int]:
    """DELETE /v1/webhooks/{webhook_id}: pending retries to it stop."""
    _webhook(services, caller, webhook_id)
    tenant = services.store.tenant(caller.client_id)
    del tenant.webhooks[webhook_id]
    tenant.deliveries.pop(webhook_id, None)
    return None, 204


async def list_deliveries(
    services: Services, caller: Caller, webhook_id: str, page: int = 1, limit: int = 50
) -> dict[str, Any]:
    """GET /v1/webhooks/{webhook_id}/deliveries: every attempt, oldest first."""
    _webhook(services, caller, webhook_id)
    log = services.store.tenant(caller.client_id).deliveries.get(webhook_id, [])
    ordered = sorted(log, key=lambda d: d["attempted_at"])  # stable: ties keep log order
    return page_of(ordered, page=page, limit=limit)
