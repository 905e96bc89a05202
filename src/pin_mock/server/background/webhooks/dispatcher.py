"""The webhook dispatcher: delivers each queued delivery, with fair slots and retries.

Events become deliveries on the engine's delivery queue (``domain/events.py``);
whichever worker takes one makes one attempt::

    attempt 1 --2xx--> succeeded
        |--target outside the policy--> blocked (never sent, not retried)
        |--a reserved name (RFC 6761), never looked up--> not_delivered (not retried)
        |--non-2xx, timeout, no connection, no DNS answer--> failed; wait schedule[0] * factor
    attempt 2 ... at most 1 + len(webhook_retry_schedule) attempts;
    the last failure (or a 410 Gone) has no ``next_retry_at``.

A receiver's ``Retry-After`` (on a 429 or gateway 5xx) lengthens the wait, up
to ``attempts.MAX_RETRY_AFTER``. The waits are on the client's clock
(``client_time.py``): a retry job carries its ``due`` time and, started early,
waits for it (held while the clock is frozen), so an advance delivers at once
what fell due. Events and attempts are dated on that clock; the signature's
timestamp stays real (receivers check it against their own clock). Redirects are not followed. An attempt lasts
at most ``webhook_timeout`` in all (``attempts.py``).

Each attempt is logged with a compare-and-set on the delivery's attempt
number, which schedules the next attempt in the same step
(``WebhookStore.record``): a delivery run twice (Redis: taken over from a
worker that was slow, not dead) is logged and retried once. A delivery whose
webhook was removed, or whose sandbox was reset, ends at its next turn.

Fairness: an attempt needs one of its webhook's ``WEBHOOK_SLOTS`` and one of
its client's ``TENANT_SLOTS`` (the queue's fair slots; on Redis counted over
every worker), and a worker runs at most ``TOTAL_SLOTS`` at once. A delivery
that finds its slots taken is parked until an attempt of its webhook or
client ends, so one client's dead receivers hold only that client's slots.

On shutdown, attempts on the wire get ``attempts.SHUTDOWN_GRACE`` seconds (at
most the timeout). What the queue then gives up (memory: everything not
finished; Redis: nothing, the rest stays queued for the other workers or the
next start) is logged ``not_delivered``, one WARNING line each, and the
shutdown ends with one summary line.
"""

from __future__ import annotations

import logging
import secrets
import time

from pin_mock.server.background.client_time import ClientTime
from pin_mock.server.background.fair_queue import FairQueue
from pin_mock.server.background.webhooks.attempts import Poster
from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.domain.ids import IdFactory
from pin_mock.server.domain.journal.service import Journal
from pin_mock.server.domain.webhooks.deliveries import (
    Message,
    Outcome,
    announce,
    entry,
    give_up,
)
from pin_mock.server.observability import UNOBSERVED, Observability
from pin_mock.server.settings import Settings
from pin_mock.server.state.outages import unavailable
from pin_mock.server.state.ports import Job, JobQueue, WebhookStore
from pin_mock.server.timestamps import iso_millis as iso

logger = logging.getLogger("pin_mock.webhooks")

#: Attempts on the wire at once, per worker (each lasts at most ``webhook_timeout``).
TOTAL_SLOTS = 64
#: Attempts on the wire at once for one client.
TENANT_SLOTS = 8
#: Attempts on the wire at once to one webhook.
WEBHOOK_SLOTS = 4


class WebhookDispatcher:
    """Takes deliveries from the delivery queue; a worker of the app's lifespan."""

    def __init__(
        self,
        queue: JobQueue,
        webhooks: WebhookStore,
        ids: IdFactory,
        clocks: ClientClocks,
        settings: Settings,
        *,
        journal: Journal | None = None,
        observability: Observability = UNOBSERVED,
    ) -> None:
        self.queue = queue
        self.journal = journal
        self.observability = observability
        self.webhooks = webhooks
        self.ids = ids
        self.clock = clocks.now
        self.time = ClientTime(clocks, "deliveries")
        # The signature's timestamp: the real clock (a receiver's replay window is real).
        self.poster = Poster(settings, clocks.real, TOTAL_SLOTS)
        # An attempt lasts at most webhook_timeout, so a lease that long needs no renewal.
        self.jobs = FairQueue(
            queue,
            lease=settings.webhook_timeout + 5.0,
            group_slots=WEBHOOK_SLOTS,
            client_slots=TENANT_SLOTS,
        )
        self.slots = self.jobs.slots
        self._on_wire: set[str] = set()

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self.poster.http()  # built now (its TLS context takes a while), not in an attempt's time
        await self.jobs.start(self._handle, concurrency=TOTAL_SLOTS, name="delivery slots")

    async def aclose(self) -> None:
        """Let attempts on the wire end, briefly; log what nobody will deliver."""
        began = time.monotonic()
        on_wire = set(self._on_wire)
        closed = await self.jobs.stop(grace=self.poster.shutdown_grace)
        left = closed.abandoned
        for job in left:
            when = "during" if job["m"] in on_wire else "before"
            why = f"the sandbox shut down {when} attempt {job['a']}"
            message = Message.of(job["client_id"], job["m"], None, b"")
            await give_up(self.webhooks, self.ids, self.clock, message, int(job["a"]), why)
        if left:
            logger.warning(
                "webhooks: shutdown gave up %d deliveries to %d webhooks in %.1f s",
                len(left),
                len({(job["client_id"], job["m"].rpartition("|")[2]) for job in left}),
                time.monotonic() - began,
                extra={"abandoned": len(left)},
            )
        if closed.handed_back:
            logger.info(
                "webhooks: shutdown handed %d deliveries back to the queue", closed.handed_back
            )
        await self.poster.aclose()

    async def drain(self) -> None:
        """Wait until no delivery is queued, scheduled, parked or under way (tests, tools)."""
        await self.jobs.drain()

    # -- one attempt -----------------------------------------------------------

    async def _handle(self, job: Job) -> None:
        try:
            await self._attempt(job)
        except Exception as exc:
            if unavailable(exc) is not None:  # Redis lost: counted; the job runs again
                self.observability.state_error("deliveries")
            raise

    async def _attempt(self, job: Job) -> None:
        client_id, member, attempt = job["client_id"], job["m"], int(job["a"])
        await self.time.enter(job)
        message = Message.of(client_id, member, None, b"")
        due, webhook = await self.webhooks.due_and_webhook(client_id, member, message.webhook_id)
        if due is None or due != attempt:
            return  # delivered, dropped, reset, or a copy of a job whose attempt was logged
        if webhook is None:  # removed: no further deliveries, nothing more in its log
            await self.webhooks.release(client_id, member)
            return
        if "due" in job and not await self.time.due(job, float(job["due"]), member):
            return  # a retry started before its time on the client's clock: it waits
        message = Message.of(client_id, member, webhook, job["body"].encode())
        token = secrets.token_hex(8)
        if not await self.slots.acquire(client_id, message.webhook_id, token, job):
            return  # parked until a slot of its webhook or client is free
        self._on_wire.add(member)
        span = {"pin.client_id": client_id, "pin.webhook_id": message.webhook_id}
        with self.observability.job("webhook.delivery", job, {**span, "pin.attempt": attempt}):
            try:
                started = self.clock()
                clock = time.perf_counter()
                outcome = await self.poster.attempt(message)
                seconds = time.perf_counter() - clock
                duration_ms = round(seconds * 1000, 1)
            finally:
                self._on_wire.discard(member)
                await self.slots.release(client_id, message.webhook_id, token)
            status = await self._record(job, message, attempt, outcome, started, duration_ms)
        self.observability.delivery(status, seconds)

    async def _record(
        self,
        job: Job,
        message: Message,
        attempt: int,
        outcome: Outcome,
        started: float,
        duration_ms: float,
    ) -> str:
        """Log the attempt (once, whichever worker ran it); its status."""
        if outcome.succeeded:
            status, delay = "succeeded", None
        elif outcome.blocked:
            status, delay = "blocked", None
        elif outcome.undeliverable:
            status, delay = "not_delivered", None
        else:
            status, delay = "failed", self.poster.next_delay(attempt, outcome)
        next_at = None if delay is None else iso(self.clock() + delay)
        record = entry(
            self.ids.new("dlv"),
            message,
            attempt,
            status,
            outcome,
            duration_ms,
            iso(started),
            next_at,
            None,
        )
        retry = (
            None
            if delay is None
            else (delay, {**job, "a": attempt + 1, "due": self.clock() + delay})
        )
        recorded = await self.webhooks.record(
            message.client_id, message.webhook_id, job["m"], attempt, record, retry=retry
        )
        if recorded:  # else another worker logged this attempt (a job run twice)
            announce(message, attempt, status, outcome, duration_ms)
            if self.journal is not None:  # the client's timeline shows its deliveries too
                self.journal.record_webhook(
                    message.client_id,
                    started=started,
                    duration_ms=duration_ms,
                    url=message.url,
                    status_code=outcome.status_code,
                    body=message.body,
                    webhook={
                        "webhook_id": message.webhook_id,
                        "delivery_id": record["id"],
                        "event_id": message.event_id,
                        "event_type": message.event_type,
                        "attempt": attempt,
                        "outcome": status,
                        "error": outcome.error,
                        "next_retry_at": next_at,
                    },
                )
        return status
