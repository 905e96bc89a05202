"""Webhook deliveries: Standard Webhooks signatures, retries and the delivery log.

Every event (``services.emit``) becomes one message, with one event id, for
each of the owning client's webhooks subscribed to its type. Each message is
delivered by its own task::

    attempt 1 --2xx--> succeeded
        |--non-2xx, timeout, no connection--> failed; wait schedule[0] * factor
    attempt 2 ... at most 1 + len(webhook_retry_schedule) attempts;
    the last failure (or a 410 Gone) has no ``next_retry_at``.

Every attempt is appended to the tenant's delivery log as a ``Delivery``.
Signing uses the ``standardwebhooks`` package; the event id is the
``webhook-id`` header and is the same on every retry, while the timestamp and
signature are fresh per attempt. Redirects are not followed.

On shutdown (``aclose``), attempts in flight finish (bounded by the timeout);
messages waiting for a retry are logged as ``not_delivered``.

SSRF: a local sandbox must reach receivers on ``localhost``, so private
targets are allowed by default. With ``webhook_allow_private_targets=False``
(a hosted sandbox) URLs whose host is or resolves to a loopback, private,
link-local or otherwise non-global address are refused at registration, and at
delivery the host is resolved once, checked, and the connection pinned to that
address.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import ipaddress
import logging
import re
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import orjson
from standardwebhooks import Webhook

from pin_mock.server.errors import InvalidParameter
from pin_mock.server.timestamps import iso_millis as iso

if TYPE_CHECKING:  # services imports this module to install it
    from pin_mock.server.services import Services

logger = logging.getLogger("pin_mock.server.webhooks")

EVENT_TYPES = ("patient.created", "clinical_data.updated", "report.completed", "report.failed")
USER_AGENT = "pin-mock-webhooks/1 (Standard Webhooks v1)"
#: Oldest attempts are dropped past this many per webhook, so a long run stays bounded.
MAX_LOG = 1_000
#: A receiver's ``Retry-After`` is honoured up to this many seconds (before the factor).
MAX_RETRY_AFTER = 3_600.0


#: Delivery attempts on the wire at once (each waits at most ``webhook_timeout``).
MAX_IN_FLIGHT = 32


def new_secret() -> str:
    """A signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


# -- target URLs ---------------------------------------------------------------


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _valid_host(host: str | None) -> bool:
    """An IP address, or a DNS name (IDN allowed; ``_`` too, as in compose service names)."""
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?", name) is not None


async def _resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


async def check_url(url: str, *, allow_private: bool) -> str:
    """The webhook URL if deliverable, else ``InvalidParameter('url')``."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise InvalidParameter("url", url, "The webhook URL is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not _valid_host(parts.hostname):
        raise InvalidParameter("url", url, "The webhook URL must be http or https with a host.")
    if not allow_private:
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await _resolve(parts.hostname, port)
        except OSError:
            raise InvalidParameter("url", url, "The webhook URL's host does not resolve.") from None
        if any(_blocked(a) for a in addresses):
            raise InvalidParameter(
                "url", url, "The webhook URL points to a private or local address."
            )
    return url


# -- deliveries ----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One event on its way to one webhook."""

    client_id: str
    webhook_id: str
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave."""

    status_code: int | None
    error: str | None
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookDispatcher:
    """Listener on ``services.listeners`` and worker in ``services.workers``."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
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
        body = orjson.dumps(event)
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
            self._log(message, 1, "not_delivered", error="the sandbox is shutting down")
            return
        task = loop.create_task(self._deliver(message), name=f"webhook {message.event_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one message -----------------------------------------------------------

    async def _deliver(self, message: Message) -> None:
        schedule = self.settings.webhook_retry_schedule
        attempts = 1 + len(schedule)
        attempt = 0
        try:
            for attempt in range(1, attempts + 1):
                if not self._subscribed(message):
                    return  # the webhook was removed: no further deliveries
                async with self._in_flight:
                    started = self.services.clock()
                    clock = time.perf_counter()
                    outcome = await self._attempt(message)
                    duration_ms = round((time.perf_counter() - clock) * 1000, 1)
                if outcome.succeeded:
                    self._log(message, attempt, "succeeded", outcome, duration_ms, started)
                    return
                final = attempt == attempts or outcome.status_code == 410
                delay = None if final else self._delay(schedule[attempt - 1], outcome.retry_after)
                next_at = None if delay is None else iso(self.services.clock() + delay)
                self._log(message, attempt, "failed", outcome, duration_ms, started, next_at)
                if delay is None:
                    return
                if await self._stopped_within(delay):
                    self._log(
                        message,
                        attempt + 1,
                        "not_delivered",
                        error="the sandbox shut down before this retry",
                    )
                    return
        except asyncio.CancelledError:
            self._log(message, max(attempt, 1), "not_delivered", error="the sandbox shut down")
            raise
        except Exception:  # a bug here must not kill the loop silently
            logger.exception("webhook delivery %s crashed", message.event_id)
            self._log(message, max(attempt, 1), "failed", error="internal error in the sandbox")

    async def _attempt(self, message: Message) -> Outcome:
        """POST the signed message once."""
        timestamp = int(self.services.clock())
        signature = Webhook(message.secret).sign(
            message.event_id, datetime.fromtimestamp(timestamp, UTC), message.body.decode()
        )
        headers = {
            "content-type": "application/json",
            "webhook-id": message.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        }
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
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")  # IDNs as xn--, IPv6 without brackets
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = await _resolve(host, port)
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {host}: {exc}") from None
        if not addresses or any(_blocked(a) for a in addresses):
            raise TargetRefused(f"{host} resolves to a private or local address")
        headers["host"] = parsed.netloc.decode("ascii")
        return str(parsed.copy_with(host=addresses[0])), {"sni_hostname": host}

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

    # -- the log ---------------------------------------------------------------

    def _subscribed(self, message: Message) -> bool:
        return message.webhook_id in self.services.store.tenant(message.client_id).webhooks

    def _log(
        self,
        message: Message,
        attempt: int,
        status: str,
        outcome: Outcome | None = None,
        duration_ms: float | None = None,
        started: float | None = None,
        next_retry_at: str | None = None,
        *,
        error: str | None = None,
    ) -> None:
        """Append one attempt to the webhook's delivery log."""
        if not self._subscribed(message):
            return
        store = self.services.store
        log = store.tenant(message.client_id).deliveries.setdefault(message.webhook_id, [])
        log.append(
            {
                "id": store.ids.new("dlv"),
                "webhook_id": message.webhook_id,
                "event_id": message.event_id,
                "event_type": message.event_type,
                "attempt": attempt,
                "status": status,
                "status_code": outcome.status_code if outcome else None,
                "error": outcome.error if outcome else error,
                "duration_ms": duration_ms,
                "attempted_at": iso(self.services.clock() if started is None else started),
                "next_retry_at": next_retry_at,
            }
        )
        del log[:-MAX_LOG]
        logger.info(
            "webhook %s %s attempt %d -> %s %s",
            message.webhook_id,
            message.event_type,
            attempt,
            status,
            (outcome.status_code if outcome else None) or (outcome.error if outcome else error),
        )


class TargetRefused(Exception):
    """The target was refused before connecting (SSRF guard)."""


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
