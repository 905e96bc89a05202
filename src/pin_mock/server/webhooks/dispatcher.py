"""The delivery worker: one task per message, retries, fair slots, bounded shutdown.

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
attempts on the wire get ``SHUTDOWN_GRACE`` seconds (at most the timeout) to
finish. Each message given up is logged (``not_delivered``, one WARNING line
each) and the shutdown ends with one summary line.

Signing is in ``signing``, the target policy in ``targets``, the log in
``deliveries``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import TYPE_CHECKING, Any

import httpx

from pin_mock.server.encoding import encode
from pin_mock.server.timestamps import iso_millis as iso
from pin_mock.server.webhooks.deliveries import DeliveryLog, Message, Outcome
from pin_mock.server.webhooks.lanes import TOTAL_SLOTS, Job, Lanes
from pin_mock.server.webhooks.signing import signed_headers
from pin_mock.server.webhooks.targets import TargetRefused, TargetUnresolved, routes

if TYPE_CHECKING:  # services imports this package to install it
    from pin_mock.server.services import Services

logger = logging.getLogger("pin_mock.webhooks")

USER_AGENT = "pin-mock-webhooks/1 (Standard Webhooks v1)"
#: A receiver's ``Retry-After`` is honoured up to this many seconds (before the factor).
MAX_RETRY_AFTER = 3_600.0
#: Seconds an attempt on the wire may still take once shutdown begins (at most the timeout).
SHUTDOWN_GRACE = 3.0
#: Pending messages per client when ``Settings`` has no ``quota_pending_deliveries``.
DEFAULT_PENDING_CAP = 1_000


class WebhookDispatcher:
    """Listener on ``services.listeners`` and worker in ``services.workers``."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.log = DeliveryLog(services)
        self.lanes = Lanes(self._cap())
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def _cap(self) -> int:
        return int(getattr(self.settings, "quota_pending_deliveries", DEFAULT_PENDING_CAP))

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self._closed = False
        self.lanes = Lanes(self._cap())
        self._http()

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
            grace = min(self.settings.webhook_timeout, SHUTDOWN_GRACE)
            _, late = await asyncio.wait(flying, timeout=grace)
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
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def drain(self) -> None:
        """Wait until no delivery is under way (for tests and tools)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.settings.webhook_timeout,
                follow_redirects=False,
                trust_env=False,
                headers={"user-agent": USER_AGENT},
                limits=httpx.Limits(max_connections=TOTAL_SLOTS, max_keepalive_connections=16),
            )
        return self._client

    # -- the listener ----------------------------------------------------------

    def __call__(self, client_id: str, event_type: str, data: dict[str, Any]) -> None:
        """Queue ``event_type`` for the client's webhooks subscribed to it."""
        store = self.services.store
        targets = [
            w for w in store.tenant(client_id).webhooks.values() if event_type in w["events"]
        ]
        if not targets:
            return
        event_id = store.ids.new("msg")
        created_at = iso(self.services.clock())
        event = {"id": event_id, "type": event_type, "created_at": created_at, "data": data}
        body = encode(event)
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
            why = (
                f"dropped: the client had {self.lanes.cap} deliveries pending "
                "(quota_pending_deliveries); the oldest of its busiest webhook goes first"
            )
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
        schedule = self.settings.webhook_retry_schedule
        attempts = 1 + len(schedule)
        message, log = job.message, self.log
        try:
            while log.subscribed(message):  # a removed webhook gets no further deliveries
                async with self.lanes.slot(message):
                    job.in_flight = True
                    started = self.services.clock()
                    clock = time.perf_counter()
                    try:
                        outcome = await self._attempt(message)
                    finally:
                        job.in_flight = False
                    duration_ms = round((time.perf_counter() - clock) * 1000, 1)
                if outcome.succeeded or outcome.blocked:
                    status = "succeeded" if outcome.succeeded else "blocked"
                    log.record(message, job.attempt, status, outcome, duration_ms, started)
                    return
                final = job.attempt == attempts or outcome.status_code == 410
                delay = None if final else self._delay(schedule[job.attempt - 1], outcome)
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

    async def _attempt(self, message: Message) -> Outcome:
        """POST the signed message once, to the checked addresses of its host."""
        timeout = self.settings.webhook_timeout
        try:
            async with asyncio.timeout(timeout):
                return await self._post(message, timeout)
        except TimeoutError:
            return Outcome(None, f"timeout after {timeout:g} s")

    async def _post(self, message: Message, timeout: float) -> Outcome:
        try:
            candidates = await routes(message.url, self.settings.webhook_targets, timeout)
        except TargetRefused as exc:
            return Outcome(None, f"blocked: {exc}", blocked=True)
        except TargetUnresolved as exc:
            return Outcome(None, str(exc))
        timestamp = int(self.services.clock())
        headers = signed_headers(message.secret, message.event_id, timestamp, message.body)
        for number, route in enumerate(candidates, 1):
            try:
                response = await self._http().post(
                    route.url,
                    content=message.body,
                    headers={**headers, "host": route.host_header},
                    extensions=route.extensions,
                )
            except httpx.ConnectError as exc:
                if number < len(candidates):
                    continue  # the host's next address (IPv6 then IPv4, say)
                return Outcome(None, f"ConnectError: {exc}".rstrip(": "))
            except httpx.TimeoutException:
                return Outcome(None, f"timeout after {timeout:g} s")
            except (httpx.HTTPError, OSError) as exc:
                return Outcome(None, f"{type(exc).__name__}: {exc}".rstrip(": "))
            return _outcome(response, self.services.clock())
        return Outcome(None, "no address to connect to")

    def _delay(self, scheduled: float, outcome: Outcome) -> float:
        wait = max(scheduled, min(outcome.retry_after or 0.0, MAX_RETRY_AFTER))
        return wait * self.settings.webhook_retry_factor


def _outcome(response: httpx.Response, now: float) -> Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(code, None)
    error = f"HTTP {code} {response.reason_phrase}".strip()
    if 300 <= code < 400:
        error += " (redirects are not followed)"
    return Outcome(code, error, _retry_after(response, now))


def _retry_after(response: httpx.Response, now: float) -> float | None:
    """The ``Retry-After`` of a 429 or 5xx gateway answer, in seconds."""
    if response.status_code not in (429, 502, 503, 504):
        return None
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - now)
    except (TypeError, ValueError):
        return None


def install(services: Services) -> WebhookDispatcher:
    """Hear every event and run deliveries with the app's lifespan."""
    dispatcher = WebhookDispatcher(services)
    services.listeners.append(dispatcher)
    services.workers.append(dispatcher)
    return dispatcher


def dispatcher_of(services: Services) -> WebhookDispatcher | None:
    """The installed dispatcher, if any."""
    return next((w for w in services.workers if isinstance(w, WebhookDispatcher)), None)
