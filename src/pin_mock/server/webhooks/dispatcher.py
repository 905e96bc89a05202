"""The delivery worker: one task per message, retries, and the in-flight limit.

Every event (``services.emit``) becomes one message, with one event id, for
each of the owning client's webhooks subscribed to its type. Each message is
delivered by its own task::

    attempt 1 --2xx--> succeeded
        |--non-2xx, timeout, no connection--> failed; wait schedule[0] * factor
    attempt 2 ... at most 1 + len(webhook_retry_schedule) attempts;
    the last failure (or a 410 Gone) has no ``next_retry_at``.

A receiver's ``Retry-After`` (on a 429 or gateway 5xx) lengthens the wait, up
to ``MAX_RETRY_AFTER``. Redirects are not followed. At most ``MAX_IN_FLIGHT``
attempts are on the wire at once.

On shutdown (``aclose``), attempts in flight finish (bounded by the timeout);
messages waiting for a retry are logged as ``not_delivered``.

Signing is in ``signing``, the SSRF policy in ``targets``, the log in
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
from pin_mock.server.webhooks.signing import signed_headers
from pin_mock.server.webhooks.targets import TargetRefused, pinned

if TYPE_CHECKING:  # services imports this package to install it
    from pin_mock.server.services import Services

logger = logging.getLogger("pin_mock.server.webhooks")

USER_AGENT = "pin-mock-webhooks/1 (Standard Webhooks v1)"
#: A receiver's ``Retry-After`` is honoured up to this many seconds (before the factor).
MAX_RETRY_AFTER = 3_600.0
#: Delivery attempts on the wire at once (each waits at most ``webhook_timeout``).
MAX_IN_FLIGHT = 32


class WebhookDispatcher:
    """Listener on ``services.listeners`` and worker in ``services.workers``."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.log = DeliveryLog(services)
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Bound the attempts in flight: a burst of events to many slow or dead
        # receivers must queue here, not starve the event loop that serves the API.
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._stopping = asyncio.Event()
        self._closed = False

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self._closed = False
        self._stopping = asyncio.Event()
        self._http()

    async def aclose(self) -> None:
        """Let attempts in flight finish; log what waits for a retry as not delivered."""
        self._closed = True
        self._stopping.set()
        if self._tasks:
            pending = set(self._tasks)
            _, late = await asyncio.wait(pending, timeout=self.settings.webhook_timeout + 1.0)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
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
        task = loop.create_task(self._deliver(message), name=f"webhook {message.event_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one message -----------------------------------------------------------

    async def _deliver(self, message: Message) -> None:
        schedule = self.settings.webhook_retry_schedule
        attempts = 1 + len(schedule)
        attempt = 0
        log = self.log
        try:
            for attempt in range(1, attempts + 1):
                if not log.subscribed(message):
                    return  # the webhook was removed: no further deliveries
                async with self._in_flight:
                    started = self.services.clock()
                    clock = time.perf_counter()
                    outcome = await self._attempt(message)
                    duration_ms = round((time.perf_counter() - clock) * 1000, 1)
                if outcome.succeeded:
                    log.record(message, attempt, "succeeded", outcome, duration_ms, started)
                    return
                final = attempt == attempts or outcome.status_code == 410
                delay = None if final else self._delay(schedule[attempt - 1], outcome.retry_after)
                next_at = None if delay is None else iso(self.services.clock() + delay)
                log.record(message, attempt, "failed", outcome, duration_ms, started, next_at)
                if delay is None:
                    return
                if await self._stopped_within(delay):
                    log.record(
                        message,
                        attempt + 1,
                        "not_delivered",
                        error="the sandbox shut down before this retry",
                    )
                    return
        except asyncio.CancelledError:
            log.record(message, max(attempt, 1), "not_delivered", error="the sandbox shut down")
            raise
        except Exception:  # a bug here must not kill the loop silently
            logger.exception("webhook delivery %s crashed", message.event_id)
            log.record(message, max(attempt, 1), "failed", error="internal error in the sandbox")

    async def _attempt(self, message: Message) -> Outcome:
        """POST the signed message once."""
        timestamp = int(self.services.clock())
        headers = signed_headers(message.secret, message.event_id, timestamp, message.body)
        try:
            url, extensions = await self._target(message.url, headers)
            response = await self._http().post(
                url, content=message.body, headers=headers, extensions=extensions
            )
        except httpx.TimeoutException:
            return Outcome(None, f"timeout after {self.settings.webhook_timeout:g} s")
        except (httpx.HTTPError, OSError) as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}".rstrip(": "))
        except TargetRefused as exc:
            return Outcome(None, str(exc))
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(code, None)
        error = f"HTTP {code} {response.reason_phrase}".strip()
        if 300 <= code < 400:
            error += " (redirects are not followed)"
        return Outcome(code, error, _retry_after(response, self.services.clock()))

    async def _target(self, url: str, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
        """The URL to connect to: as is, or pinned to a checked public address."""
        if self.settings.webhook_allow_private_targets:
            return url, {}
        return await pinned(url, headers)

    def _delay(self, scheduled: float, retry_after: float | None) -> float:
        wait = max(scheduled, min(retry_after or 0.0, MAX_RETRY_AFTER))
        return wait * self.settings.webhook_retry_factor

    async def _stopped_within(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; True at once if the sandbox is shutting down."""
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except TimeoutError:
            return False
        return True


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
