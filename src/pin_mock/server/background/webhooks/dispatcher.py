"""The in-process delivery worker (``memory://``): a task per message, fair slots.

(On Redis the ``SharedDispatcher`` of ``shared.py`` does the same from shared queues.)

Every event (``services.emit``) becomes one message, with one event id, for
each of the owning client's webhooks subscribed to its type. Each message is
delivered by its own task::

    attempt 1 --2xx--> succeeded
        |--target outside the policy--> blocked (never sent, not retried)
        |--non-2xx, timeout, no connection, no DNS answer--> failed; wait schedule[0] * factor
    attempt 2 ... at most 1 + len(webhook_retry_schedule) attempts;
    the last failure (or a 410 Gone) has no ``next_retry_at``.

A receiver's ``Retry-After`` (on a 429 or gateway 5xx) lengthens the wait, up
to ``MAX_RETRY_AFTER``. Redirects are not followed. An attempt lasts at most
``webhook_timeout`` in all. Slots and the per-client cap on pending messages
are in ``lanes``.

On shutdown (``aclose``), messages not on the wire are given up at once;
attempts on the wire get ``attempts.SHUTDOWN_GRACE`` seconds (at most the timeout) to
finish. Each message given up is logged (``not_delivered``, one WARNING line
each) and the shutdown ends with one summary line.

One attempt is in ``attempts``, signing in ``signing``, the target policy in
``targets``, the log in ``deliveries``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from pin_mock.server.background.webhooks.attempts import Poster
from pin_mock.server.background.webhooks.lanes import TOTAL_SLOTS, Job, Lanes, dropped_reason
from pin_mock.server.background.webhooks.shared import SharedDispatcher
from pin_mock.server.domain.webhooks.deliveries import DeliveryLog, Message, new_event
from pin_mock.server.state.redis.webhooks import MemoryWebhooks, RedisWebhooks, open_webhooks
from pin_mock.server.timestamps import iso_millis as iso

if TYPE_CHECKING:  # services imports this package to install it
    from pin_mock.server.services import Services

logger = logging.getLogger("pin_mock.webhooks")

#: Pending messages per client when ``Settings`` has no ``quota_pending_deliveries``.
DEFAULT_PENDING_CAP = 1_000


class WebhookDispatcher:
    """Listener on ``services.listeners`` and worker in ``services.workers``."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.log = DeliveryLog(services)
        self.hooks = open_webhooks(services)
        self.lanes = Lanes(self._cap())
        self.poster = Poster(self.settings, services.clock, TOTAL_SLOTS)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def _cap(self) -> int:
        return int(getattr(self.settings, "quota_pending_deliveries", DEFAULT_PENDING_CAP))

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self._closed = False
        self.lanes = Lanes(self._cap())
        self.poster.http()  # built now (its TLS context takes a while), not in an attempt's time

    async def aclose(self) -> None:
        """Give up what is not on the wire; let attempts on the wire finish, briefly."""
        self._closed = True
        began = time.monotonic()
        jobs = self.lanes.jobs()
        for job in jobs:
            if not job.in_flight:
                self._abandon(job, f"the sandbox shut down before attempt {job.attempt}")
        flying = {job.task: job for job in jobs if job.in_flight and job.task}
        if flying:
            _, late = await asyncio.wait(flying, timeout=self.poster.shutdown_grace)
            for task in late:
                job = flying[task]
                self._abandon(job, f"the sandbox shut down during attempt {job.attempt}")
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        abandoned = [job for job in jobs if job.abandoned]
        if abandoned:
            logger.warning(
                "webhooks: shutdown gave up %d deliveries to %d webhooks in %.1f s",
                len(abandoned),
                len({(j.message.client_id, j.message.webhook_id) for j in abandoned}),
                time.monotonic() - began,
                extra={"abandoned": len(abandoned)},
            )
        await self.poster.aclose()

    async def drain(self) -> None:
        """Wait until no delivery is under way (for tests and tools)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- the listener ----------------------------------------------------------

    def __call__(self, client_id: str, event_type: str, data: dict[str, Any]) -> None:
        """Queue ``event_type`` for the client's webhooks subscribed to it."""
        hooks = self.services.store.tenant(client_id).webhooks.values()
        targets = [w for w in hooks if event_type in w["events"]]
        if not targets:
            return
        event_id, body = new_event(self.services, event_type, data)
        for webhook in targets:
            message = Message(
                client_id,
                webhook["id"],
                webhook["url"],
                webhook["secret"],
                event_id,
                event_type,
                body,
            )
            self._spawn(message)

    def _spawn(self, message: Message) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self._closed:
            self.log.record(message, 1, "not_delivered", error="the sandbox is shutting down")
            return
        job = Job(message)
        dropped = self.lanes.admit(job)
        if dropped is not None:
            why = dropped_reason(self.lanes.cap)
            if dropped is job:
                self.log.record(message, 1, "not_delivered", error=why)
                return
            self._abandon(dropped, why)
        job.task = loop.create_task(self._deliver(job), name=f"webhook {message.event_id}")
        self._tasks.add(job.task)
        job.task.add_done_callback(lambda task: self._done(job, task))

    def _abandon(self, job: Job, reason: str) -> None:
        """Give ``job`` up: cancel its task; ``_done`` logs it as not delivered."""
        if job.abandoned is None and job.task is not None and job.task.cancel():
            job.abandoned = reason

    def _done(self, job: Job, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.lanes.release(job)
        if job.abandoned is not None:
            self.log.record(job.message, job.attempt, "not_delivered", error=job.abandoned)

    # -- one message -----------------------------------------------------------

    async def _deliver(self, job: Job) -> None:
        message, log = job.message, self.log
        try:
            while log.subscribed(message):  # a removed webhook gets no further deliveries
                async with self.lanes.slot(message):
                    job.in_flight = True
                    started = self.services.clock()
                    clock = time.perf_counter()
                    try:
                        outcome = await self.poster.attempt(message)
                    finally:
                        job.in_flight = False
                    duration_ms = round((time.perf_counter() - clock) * 1000, 1)
                if outcome.succeeded or outcome.blocked:
                    status = "succeeded" if outcome.succeeded else "blocked"
                    log.record(message, job.attempt, status, outcome, duration_ms, started)
                    return
                delay = self.poster.next_delay(job.attempt, outcome)
                next_at = None if delay is None else iso(self.services.clock() + delay)
                log.record(message, job.attempt, "failed", outcome, duration_ms, started, next_at)
                if delay is None:
                    return
                job.attempt += 1
                if self._closed:
                    job.abandoned = f"the sandbox shut down before attempt {job.attempt}"
                    return
                await asyncio.sleep(delay)
        except Exception:  # a bug here must not kill the loop silently
            logger.exception("webhook delivery %s crashed", message.event_id)
            log.record(message, job.attempt, "failed", error="internal error in the sandbox")


def install(services: Services) -> WebhookDispatcher | SharedDispatcher:
    """Hear every event and run deliveries with the app's lifespan (the engine's dispatcher)."""
    engine = getattr(services, "state", None)
    shared = engine is not None and engine.redis is not None
    dispatcher = SharedDispatcher(services) if shared else WebhookDispatcher(services)
    services.listeners.append(dispatcher)
    services.workers.append(dispatcher)
    return dispatcher


def dispatcher_of(services: Services) -> WebhookDispatcher | SharedDispatcher | None:
    """The installed dispatcher, if any."""
    kinds = (WebhookDispatcher, SharedDispatcher)
    return next((w for w in services.workers if isinstance(w, kinds)), None)


def webhooks_of(services: Services) -> MemoryWebhooks | RedisWebhooks:
    """Where the sandbox's webhooks and delivery logs are (``install`` must have run)."""
    dispatcher = dispatcher_of(services)
    if dispatcher is None:
        raise RuntimeError(
            "pin_mock.server.background.webhooks.dispatcher.install(services) was not called"
        )
    return dispatcher.hooks
