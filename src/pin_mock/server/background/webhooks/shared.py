"""The delivery worker on Redis: each message delivered once, whichever worker takes it.

The process that handled the request turns the event into one message per
subscribed webhook in the same Lua script as the create it announces
(``prepare`` and ``services.emit_with``: a 201 means the event is queued, a
lost or full Redis is a 503 with neither written): it counts each
as pending for the client and queues it on the shared ``pin:q:deliveries``
stream (``state/queues.py``), all in one step
(``storage.enqueue``: past ``quota_pending_deliveries`` the oldest pending
message of the client's busiest webhook is given up, as in memory). Any worker takes a message
and makes one attempt; the attempt is logged with a compare-and-set on the
message's attempt number (``storage.record``), so a message run twice is logged
and retried once. A retry is scheduled in the queue's sorted set by its due
time, so it keeps its schedule when workers restart.

Fairness holds across workers: an attempt needs a slot of its webhook and
one of its client, leased in Redis and counted over every worker
(``state/slots.py``); a message that finds them taken is parked until an
attempt of its webhook or client ends, so another client's messages go first.

On shutdown nothing is given up: attempts on the wire get ``attempts.SHUTDOWN_GRACE``
seconds to end, the rest stay queued for the other workers or the next start.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from pin_mock.server.background.webhooks.attempts import Poster
from pin_mock.server.background.webhooks.lanes import (
    TENANT_SLOTS,
    TOTAL_SLOTS,
    WEBHOOK_SLOTS,
    dropped_reason,
)
from pin_mock.server.domain.webhooks.deliveries import (
    DeliveryLog,
    Message,
    Outcome,
    entry,
    new_event,
)
from pin_mock.server.state.memory.queue import Payload, RedisQueue, Retry, encode_job, open_queue
from pin_mock.server.state.ports import Then
from pin_mock.server.state.redis.slots import SharedSlots
from pin_mock.server.state.redis.webhooks import RedisWebhooks, open_webhooks
from pin_mock.server.timestamps import iso_millis as iso

if TYPE_CHECKING:  # services imports this package to install it
    from pin_mock.server.services import Services

logger = logging.getLogger("pin_mock.webhooks")

#: Seconds between two sweeps of the parked messages (``state/slots.py``).
SWEEP_EVERY = 1.0


class SharedDispatcher:
    """Listener on ``services.listeners`` and worker in ``services.workers`` (Redis)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        hooks = open_webhooks(services)
        assert isinstance(hooks, RedisWebhooks)
        self.hooks = hooks
        self.log = DeliveryLog(services)  # its log lines; entries go to Redis
        self.poster = Poster(self.settings, services.clock, TOTAL_SLOTS)
        claim = self.settings.job_claim_timeout
        queue = open_queue(
            services.state, "deliveries", self._handle, claim_timeout=claim, concurrency=TOTAL_SLOTS
        )
        assert isinstance(queue, RedisQueue)
        self.queue = queue
        # An attempt lasts at most webhook_timeout, so a lease that long needs no renewal.
        lease = self.settings.webhook_timeout + 5.0
        self.slots = SharedSlots(
            services.state,
            "deliveries",
            queue.stream,
            lease,
            group_slots=WEBHOOK_SLOTS,
            client_slots=TENANT_SLOTS,
        )
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self.poster.http()  # built now (its TLS context takes a while), not in an attempt's time
        await self.queue.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="slots sweep")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                await self.slots.sweep()
            except Exception:  # Redis away for a while: the queue's loops say so
                continue

    async def aclose(self) -> None:
        """Let attempts on the wire end, briefly; keep the rest queued."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        left = self.queue.running()
        await self.queue.aclose(grace=self.poster.shutdown_grace)
        if left:
            logger.info("webhooks: shutdown handed %d deliveries back to the queue", left)
        await self.poster.aclose()

    async def drain(self) -> None:
        """Wait until no delivery is queued, scheduled or under way (for tests and tools)."""
        while True:
            await self.queue.drain()
            if not await self.slots.parked():
                return
            await asyncio.sleep(0.05)

    # -- the listener ----------------------------------------------------------

    async def __call__(self, client_id: str, event_type: str, data: dict[str, Any]) -> None:
        """Queue ``event_type`` for the client's webhooks subscribed to it, now.

        ``services.emit`` awaits this (report events), so the error of a lost or
        full Redis reaches the caller instead of the event being dropped unseen.
        """
        step = await self.prepare(client_id, event_type, data)
        if step is not None:
            step.result = await self.hooks.run(step)
            await self.settle(client_id, step)

    async def prepare(self, client_id: str, event_type: str, data: dict[str, Any]) -> Then | None:
        """The step queueing the event's deliveries, for a create to run in its own script.

        ``None`` when no webhook of the client wants ``event_type``. Run with the create
        (``services.emit_with``), the resource and its event are stored together or not
        at all, so a 201 means the deliveries are queued.
        """
        hooks = [w for w in await self.hooks.all(client_id) if event_type in w["events"]]
        if not hooks:
            return None
        event_id, raw = new_event(self.services, event_type, data)
        body = raw.decode()
        jobs = []
        for webhook in hooks:
            member = f"{event_id}|{event_type}|{webhook['id']}"
            jobs.append((member, encode_job({"c": client_id, "m": member, "body": body, "a": 1})))
        cap = self.settings.quota_pending_deliveries
        return self.hooks.enqueue_step(client_id, jobs, cap, self.queue.stream)

    async def settle(self, client_id: str, step: Then) -> None:
        """Log what the queued event pushed out past ``quota_pending_deliveries``."""
        cap = self.settings.quota_pending_deliveries
        for member, attempt in self.hooks.given_up(step.result or []):
            # The event is queued (the client gets its 201): a log line that cannot be
            # written now must not turn that into an error the client would retry.
            try:
                await self._dropped(client_id, member, attempt, cap)
            except Exception:
                logger.exception("webhooks: the drop of %s was not logged", member)

    async def _dropped(self, client_id: str, member: str, attempt: int, cap: int) -> None:
        why = dropped_reason(cap)
        event_id, event_type, webhook_id = member.split("|")
        message = Message(client_id, webhook_id, "", "", event_id, event_type, b"")
        self.log.announce(message, attempt, "not_delivered", error=why)
        at = iso(self.services.clock())
        record = entry(self._id(), message, attempt, "not_delivered", None, None, at, None, why)
        await self.hooks.note(client_id, webhook_id, record)

    def _id(self) -> str:
        return self.services.store.ids.new("dlv")

    # -- one attempt -----------------------------------------------------------

    async def _handle(self, job: Payload) -> Retry:
        client_id, member, attempt = job["c"], job["m"], int(job["a"])
        event_id, event_type, webhook_id = member.split("|")
        due, webhook = await self.hooks.due_and_webhook(client_id, member, webhook_id)
        if due is None:
            return None  # delivered, dropped, or the sandbox was reset
        if due != attempt:
            return None  # a copy of a job whose attempt was logged (and its retry scheduled)
        if webhook is None:  # removed: no further deliveries, nothing more in its log
            await self.hooks.release(client_id, member)
            return None
        message = Message(
            client_id,
            webhook_id,
            webhook["url"],
            webhook["secret"],
            event_id,
            event_type,
            job["body"].encode(),
        )
        token = secrets.token_hex(8)
        if not await self.slots.acquire(client_id, webhook_id, token, encode_job(job)):
            return None  # parked until a slot of its webhook or client is free
        try:
            started = self.services.clock()
            clock = time.perf_counter()
            outcome = await self.poster.attempt(message)
            duration_ms = round((time.perf_counter() - clock) * 1000, 1)
        finally:
            await self.slots.release(client_id, webhook_id, token)
        return await self._settle(job, message, attempt, outcome, started, duration_ms)

    async def _settle(
        self,
        job: Payload,
        message: Message,
        attempt: int,
        outcome: Outcome,
        started: float,
        duration_ms: float,
    ) -> Retry:
        if outcome.succeeded or outcome.blocked:
            status, delay = ("succeeded" if outcome.succeeded else "blocked"), None
        else:
            status, delay = "failed", self.poster.next_delay(attempt, outcome)
        next_at = None if delay is None else iso(self.services.clock() + delay)
        record = entry(
            self._id(), message, attempt, status, outcome, duration_ms, iso(started), next_at, None
        )
        retry = None
        if delay is not None:
            run = RedisQueue.run_later({**job, "a": attempt + 1})
            retry = (self.queue.retries, self.services.clock() + delay, run)
        recorded = await self.hooks.record(
            message.client_id, message.webhook_id, job["m"], attempt, record, retry=retry
        )
        if recorded:  # else another worker logged this attempt (a job run twice)
            self.log.announce(message, attempt, status, outcome, duration_ms)
        return None
