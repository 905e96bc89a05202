"""Webhooks: register (the secret is shown once), list, get, delete, delivery log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pin_mock.server.domain.quotas as quotas
from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.store import Store
from pin_mock.server.domain.webhooks.signing import new_secret
from pin_mock.server.domain.webhooks.targets import check_url
from pin_mock.server.errors import NotFound
from pin_mock.server.handlers.responses import created, now_iso, page_of
from pin_mock.server.settings import Settings
from pin_mock.server.state.ports import WebhookStore

PUBLIC_FIELDS = ("id", "url", "events", "description", "created_at")


def public(webhook: dict[str, Any]) -> dict[str, Any]:
    """A webhook as listed and read: never its secret."""
    return {k: webhook[k] for k in PUBLIC_FIELDS}


async def _webhook(webhooks: WebhookStore, caller: Caller, webhook_id: str) -> dict[str, Any]:
    webhook = await webhooks.get(caller.client_id, webhook_id)
    if webhook is None:
        raise NotFound.resource("Webhook", "webhook_id", webhook_id)
    return webhook


async def list_webhooks(
    webhooks: WebhookStore, caller: Caller, page: int = 1, limit: int = 50
) -> dict[str, Any]:
    """GET /v1/webhooks"""
    hooks = await webhooks.all(caller.client_id)
    return page_of([public(w) for w in hooks], page=page, limit=limit)


async def create_webhook(
    webhooks: WebhookStore,
    store: Store,
    settings: Settings,
    clock: Callable[[], float],
    caller: Caller,
    body: dict[str, Any],
) -> tuple[Any, int, dict]:
    """POST /v1/webhooks"""
    # Only the URL's form is checked here: the target policy (webhook_targets) is
    # applied at each delivery, where an address outside it is logged ``blocked``.
    url = check_url(body["url"].strip())
    webhook = {
        "id": store.ids.new("wh"),
        "url": url,
        "events": list(body["events"]),
        "description": body.get("description"),
        "created_at": now_iso(clock),
        "secret": new_secret(),
    }
    # The quota is checked and the webhook stored in one step (on every worker at once).
    cap = settings.quota_webhooks
    held = await webhooks.create(caller.client_id, webhook, cap)
    if held is not None:
        raise quotas.exceeded("webhooks", cap, held)
    return created(
        {**public(webhook), "secret": webhook["secret"]}, f"/v1/webhooks/{webhook['id']}"
    )


async def get_webhook(webhooks: WebhookStore, caller: Caller, webhook_id: str) -> dict[str, Any]:
    """GET /v1/webhooks/{webhook_id}"""
    return public(await _webhook(webhooks, caller, webhook_id))


async def delete_webhook(
    webhooks: WebhookStore, caller: Caller, webhook_id: str
) -> tuple[None, int]:
    """DELETE /v1/webhooks/{webhook_id}: pending retries to it stop, its log goes with it."""
    if not await webhooks.delete(caller.client_id, webhook_id):
        raise NotFound.resource("Webhook", "webhook_id", webhook_id)
    return None, 204


async def list_deliveries(
    webhooks: WebhookStore, caller: Caller, webhook_id: str, page: int = 1, limit: int = 50
) -> dict[str, Any]:
    """GET /v1/webhooks/{webhook_id}/deliveries: every attempt, oldest first."""
    await _webhook(webhooks, caller, webhook_id)
    log = await webhooks.log(caller.client_id, webhook_id)
    ordered = sorted(log, key=lambda d: d["attempted_at"])  # stable: ties keep log order
    return page_of(ordered, page=page, limit=limit)
