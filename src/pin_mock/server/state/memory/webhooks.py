"""Webhooks, their delivery logs and pending deliveries in memory (the ``WebhookStore`` port).

Kept in each client's ``Tenant``: ``webhooks``, ``deliveries`` (the logs) and
``pending`` (webhook id -> {member: attempt due}, oldest admitted first). Each
method runs with no ``await``, so every step is atomic, as the Redis engine's
scripts are (``state/redis/webhooks.py``, the same rules):

- ``enqueue_now`` counts an event's deliveries pending and queues them; at
  ``cap`` pending the oldest delivery of the client's busiest webhook is given
  up to make room (a dead receiver loses its own oldest retries first);
- ``record`` logs an attempt only if the delivery is still due for it (a
  compare-and-set) and schedules the next attempt, or ends the delivery.
"""

from __future__ import annotations

from typing import Any

from pin_mock.server.state.memory.queue import MemoryQueue
from pin_mock.server.state.memory.tenant import Tenant, Tenants
from pin_mock.server.state.ports import (
    DROPPED,
    MAX_LOG,
    SHUTTING_DOWN,
    EventDeliveries,
    GivenUp,
    Job,
    member_parts,
)


class MemoryWebhooks:
    """``WebhookStore`` over the process's tenants; deliveries go to ``queue``."""

    def __init__(self, tenants: Tenants, queue: MemoryQueue) -> None:
        self.tenant = tenants.get
        self.queue = queue

    # -- webhooks ----------------------------------------------------------------

    async def create(self, client_id: str, webhook: dict[str, Any], cap: int) -> int | None:
        hooks = self.tenant(client_id).webhooks
        if len(hooks) + 1 > cap:
            return len(hooks)
        hooks[webhook["id"]] = webhook
        return None

    async def get(self, client_id: str, webhook_id: str) -> dict[str, Any] | None:
        return self.tenant(client_id).webhooks.get(webhook_id)

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        return list(self.tenant(client_id).webhooks.values())

    def subscribed(self, client_id: str, event_type: str) -> bool:
        """Whether a webhook of the client subscribes to ``event_type`` (``state/unread.py``)."""
        return any(event_type in w["events"] for w in self.tenant(client_id).webhooks.values())

    async def delete(self, client_id: str, webhook_id: str) -> bool:
        tenant = self.tenant(client_id)
        tenant.deliveries.pop(webhook_id, None)
        return tenant.webhooks.pop(webhook_id, None) is not None

    async def log(self, client_id: str, webhook_id: str) -> list[dict[str, Any]]:
        return list(self.tenant(client_id).deliveries.get(webhook_id, []))

    # -- pending deliveries ------------------------------------------------------

    async def enqueue(self, deliveries: EventDeliveries) -> None:
        self.enqueue_now(deliveries)

    def enqueue_now(self, deliveries: EventDeliveries) -> None:
        """Count each delivery pending and queue it, giving up what the cap pushes out."""
        tenant = self.tenant(deliveries.client_id)
        for member, job in deliveries.jobs:
            if deliveries.cap < 1 or self.queue.closed:
                reason = SHUTTING_DOWN if self.queue.closed else DROPPED
                deliveries.given_up.append(GivenUp(member, 1, reason))
                continue
            webhook_id = member_parts(member)[2]
            if member in tenant.pending.get(webhook_id, ()):
                continue  # an event queued again: once
            if tenant.pending_count() >= deliveries.cap:
                deliveries.given_up.append(_drop_oldest_of_busiest(tenant))
            tenant.pending.setdefault(webhook_id, {})[member] = 1
            self.queue.put_nowait(job)

    async def due_and_webhook(
        self, client_id: str, member: str, webhook_id: str
    ) -> tuple[int | None, dict[str, Any] | None]:
        tenant = self.tenant(client_id)
        due = tenant.pending.get(webhook_id, {}).get(member)
        return due, tenant.webhooks.get(webhook_id)

    async def pending(self, client_id: str) -> int:
        return self.tenant(client_id).pending_count()

    async def release(self, client_id: str, member: str) -> None:
        _forget(self.tenant(client_id), member)

    async def record(
        self,
        client_id: str,
        webhook_id: str,
        member: str,
        attempt: int,
        entry: dict[str, Any],
        *,
        retry: tuple[float, Job] | None,
    ) -> bool:
        tenant = self.tenant(client_id)
        pending = tenant.pending.get(webhook_id, {})
        if pending.get(member) != attempt:
            return False
        if retry is None:
            _forget(tenant, member)
        else:
            pending[member] = attempt + 1
            self.queue.put_nowait(retry[1], retry[0])
        _append(tenant, webhook_id, entry)
        return True

    async def note(self, client_id: str, webhook_id: str, entry: dict[str, Any]) -> None:
        _append(self.tenant(client_id), webhook_id, entry)


def _append(tenant: Tenant, webhook_id: str, entry: dict[str, Any]) -> None:
    if webhook_id not in tenant.webhooks:
        return  # a removed webhook's log went with it
    log = tenant.deliveries.setdefault(webhook_id, [])
    log.append(entry)
    del log[:-MAX_LOG]


def _forget(tenant: Tenant, member: str) -> None:
    webhook_id = member_parts(member)[2]
    pending = tenant.pending.get(webhook_id)
    if pending is not None:
        pending.pop(member, None)
        if not pending:
            del tenant.pending[webhook_id]


def _drop_oldest_of_busiest(tenant: Tenant) -> GivenUp:
    busiest = max(tenant.pending.values(), key=len)
    member = next(iter(busiest))
    attempt = busiest[member]
    _forget(tenant, member)
    return GivenUp(member, attempt)
