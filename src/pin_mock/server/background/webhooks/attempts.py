"""One attempt to deliver a message: resolve and check the target, sign, POST once.

Made by the dispatcher (``dispatcher.py``), on either engine. An attempt lasts at most ``webhook_timeout`` in all, follows no
redirect, and reads a receiver's ``Retry-After`` (on a 429 or gateway 5xx) so
the wait before the next attempt can be lengthened, up to ``MAX_RETRY_AFTER``.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable

import httpx

from pin_mock.server.domain.webhooks.deliveries import Message, Outcome
from pin_mock.server.domain.webhooks.signing import signed_headers
from pin_mock.server.domain.webhooks.targets import TargetRefused, TargetUnresolved, routes
from pin_mock.server.settings import Settings

USER_AGENT = "pin-mock-webhooks/1 (Standard Webhooks v1)"
#: A receiver's ``Retry-After`` is honoured up to this many seconds (before the factor).
MAX_RETRY_AFTER = 3_600.0
#: Seconds an attempt on the wire may still take once shutdown begins (at most the timeout).
SHUTDOWN_GRACE = 3.0


class Poster:
    """Sends attempts through one pooled HTTP client."""

    def __init__(self, settings: Settings, clock: Callable[[], float], connections: int) -> None:
        self.settings = settings
        self.clock = clock
        self.connections = connections
        self._client: httpx.AsyncClient | None = None

    @property
    def shutdown_grace(self) -> float:
        """How long attempts on the wire may still take once the dispatcher closes."""
        return min(self.settings.webhook_timeout, SHUTDOWN_GRACE)

    def http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.settings.webhook_timeout,
                follow_redirects=False,
                trust_env=False,
                headers={"user-agent": USER_AGENT},
                limits=httpx.Limits(max_connections=self.connections, max_keepalive_connections=16),
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def attempt(self, message: Message) -> Outcome:
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
        timestamp = int(self.clock())
        headers = signed_headers(message.secret, message.event_id, timestamp, message.body)
        for number, route in enumerate(candidates, 1):
            try:
                response = await self.http().post(
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
            return _outcome(response, self.clock())
        return Outcome(None, "no address to connect to")

    def next_delay(self, attempt: int, outcome: Outcome) -> float | None:
        """Seconds before attempt ``attempt + 1``, or None if ``attempt`` was the last."""
        schedule = self.settings.webhook_retry_schedule
        if attempt > len(schedule) or outcome.status_code == 410:
            return None
        wait = max(schedule[attempt - 1], min(outcome.retry_after or 0.0, MAX_RETRY_AFTER))
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
