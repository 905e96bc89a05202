"""Fair delivery: each client and each webhook has its own slots and a bounded queue.

Every message waits for three slots before an attempt goes on the wire, in
this order: one of its webhook's ``WEBHOOK_SLOTS``, one of its client's
``TENANT_SLOTS``, one of the sandbox's ``TOTAL_SLOTS``. A receiver that never
answers therefore holds at most its webhook's slots, and a client's hundred
dead receivers at most that client's slots: another client's delivery finds
its own slots free and starts at once (while fewer than
``TOTAL_SLOTS / TENANT_SLOTS`` clients are saturated; past that they share
the total in turn, each slot freed within ``webhook_timeout``).

A message is *pending* from the event until its last attempt ends (waiting
for a slot, on the wire, or waiting for a retry). Each client may have at
most ``cap`` pending (``Settings.quota_pending_deliveries``); one more drops
the oldest pending message of the client's webhook with the most pending
(not one on the wire, if it can), so a client's dead receiver loses its own
oldest retries instead of starving the client's healthy webhooks. The
dispatcher logs what was dropped as ``not_delivered``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pin_mock.server.domain.webhooks.deliveries import Message

#: Attempts on the wire at once, in all (each lasts at most ``webhook_timeout``).
TOTAL_SLOTS = 64
#: Attempts on the wire at once for one client.
TENANT_SLOTS = 8
#: Attempts on the wire at once to one webhook.
WEBHOOK_SLOTS = 4


def dropped_reason(cap: int) -> str:
    """The log's ``error`` for a message dropped past ``cap`` pending (both dispatchers)."""
    return (
        f"dropped: the client had {cap} deliveries pending "
        "(quota_pending_deliveries); the oldest of its busiest webhook goes first"
    )


@dataclass(eq=False)
class Job:
    """One message's delivery: the attempt it is at, and why it was given up, if it was."""

    message: Message
    attempt: int = 1
    in_flight: bool = False
    abandoned: str | None = None
    task: asyncio.Task[None] | None = None


class Lanes:
    """The slots and the pending messages, per client and per webhook."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._total = asyncio.Semaphore(TOTAL_SLOTS)
        self._tenant_slots: dict[str, asyncio.Semaphore] = {}
        self._webhook_slots: dict[tuple[str, str], asyncio.Semaphore] = {}
        # client -> webhook -> its pending jobs, oldest first (dicts keep order).
        self._pending: dict[str, dict[str, dict[Job, None]]] = {}
        self._counts: dict[str, int] = {}

    def pending(self, client_id: str) -> int:
        """How many messages ``client_id`` has pending."""
        return self._counts.get(client_id, 0)

    def jobs(self) -> list[Job]:
        """Every pending job."""
        return [job for hooks in self._pending.values() for q in hooks.values() for job in q]

    def admit(self, job: Job) -> Job | None:
        """Count ``job`` as pending; the job dropped to make room for it, if any.

        With a cap below 1 nothing is admitted: ``job`` itself is returned.
        """
        client = job.message.client_id
        if self.cap < 1:
            return job
        dropped = self._victim(client) if self.pending(client) >= self.cap else None
        if dropped is not None:
            self.release(dropped)
        hooks = self._pending.setdefault(client, {})
        hooks.setdefault(job.message.webhook_id, {})[job] = None
        self._counts[client] = self.pending(client) + 1
        return dropped

    def release(self, job: Job) -> None:
        """``job`` is no longer pending (idempotent)."""
        client, webhook = job.message.client_id, job.message.webhook_id
        queue = self._pending.get(client, {}).get(webhook)
        if queue is None or job not in queue:
            return
        del queue[job]
        self._counts[client] -= 1
        if not queue:
            # Forget an idle webhook's slots, so removed webhooks leave nothing behind.
            del self._pending[client][webhook]
            self._webhook_slots.pop((client, webhook), None)

    @asynccontextmanager
    async def slot(self, message: Message) -> AsyncIterator[None]:
        """Hold a slot of the message's webhook, of its client and of the sandbox."""
        client, webhook = message.client_id, message.webhook_id
        hook = self._webhook_slots.setdefault((client, webhook), asyncio.Semaphore(WEBHOOK_SLOTS))
        tenant = self._tenant_slots.setdefault(client, asyncio.Semaphore(TENANT_SLOTS))
        async with hook, tenant, self._total:
            yield

    def _victim(self, client: str) -> Job | None:
        hooks = self._pending.get(client)
        if not hooks:
            return None
        busiest = max(hooks.values(), key=len)
        return next((j for j in busiest if not j.in_flight), next(iter(busiest)))
