"""One attempt to deliver a message: resolve and check the target, sign, POST once.

Made by the dispatcher (``dispatcher.py``), on either engine. An attempt lasts at most ``webhook_timeout`` in all, follows no
redirect, and reads a receiver's ``Retry-After`` (on a 429 or gateway 5xx) so
the wait before the next attempt can be lengthened, up to ``MAX_RETRY_AFTER``.

What a receiver may cost the sandbox is bounded: its answer is streamed and
at most ``MAX_ANSWER_BYTES`` of the body are read before the connection is
closed (a receiver answering 300 MB used to be held in memory whole), and its
reason phrase is cut to ``MAX_REASON_CHARS``. The delivery log, which the
client reads, says the same words (``NO_ANSWER``) for a connection refused,
reset or timed out and for an answer that is not HTTP, so deliveries cannot
map which ports of a network are open; the exact cause, cut, goes only to the
server's log line (``Outcome.cause``).
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable

import httpx

from pin_mock.server.digits import whole_number
from pin_mock.server.domain.webhooks.deliveries import Message, Outcome
from pin_mock.server.domain.webhooks.signing import signed_headers
from pin_mock.server.domain.webhooks.targets import (
    TargetRefused,
    TargetReserved,
    TargetUnresolved,
    routes,
)
from pin_mock.server.settings import Settings

USER_AGENT = "pin-mock-webhooks/1 (Standard Webhooks v1)"
#: A receiver's ``Retry-After`` is honoured up to this many seconds (before the factor).
MAX_RETRY_AFTER = 3_600.0
#: Seconds an attempt on the wire may still take once shutdown begins (at most the timeout).
SHUTDOWN_GRACE = 3.0
#: Bytes of a receiver's answer body read at most; the status is what an attempt needs.
MAX_ANSWER_BYTES = 4_096
#: Characters of a receiver's reason phrase, or of an error, kept in the logs.
MAX_REASON_CHARS = 200
#: The delivery log's words for every attempt that got no HTTP answer, whatever the cause.
NO_ANSWER = "no HTTP answer (the connection was refused, reset or timed out, or did not speak HTTP)"


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
        answered: list[Outcome] = []  # the outcome, once the receiver's status is in
        try:
            async with asyncio.timeout(timeout):
                return await self._post(message, timeout, answered)
        except TimeoutError:
            # The status may have come before the deadline (a body still dribbling).
            return answered[0] if answered else _no_answer(f"timeout after {timeout:g} s")

    async def _post(self, message: Message, timeout: float, answered: list[Outcome]) -> Outcome:
        try:
            candidates = await routes(message.url, self.settings.webhook_targets, timeout)
        except TargetReserved as exc:
            return Outcome(None, cut(f"not delivered: {exc}"), undeliverable=True)
        except TargetRefused as exc:
            return Outcome(None, cut(f"blocked: {exc}"), blocked=True)
        except TargetUnresolved as exc:
            return Outcome(None, "the host did not resolve", cause=cut(str(exc)))
        timestamp = int(self.clock())
        headers = signed_headers(message.secret, message.event_id, timestamp, message.body)
        for number, route in enumerate(candidates, 1):
            try:
                async with self.http().stream(
                    "POST",
                    route.url,
                    content=message.body,
                    headers={**headers, "host": route.host_header},
                    extensions=route.extensions,
                ) as response:
                    answered.append(_outcome(response, self.clock()))
                    await _read_some(response)
                    return answered[0]
            except httpx.ConnectError as exc:
                if number < len(candidates):
                    continue  # the host's next address (IPv6 then IPv4, say)
                return _no_answer(f"ConnectError: {exc}")
            except httpx.TimeoutException:
                return answered[0] if answered else _no_answer(f"timeout after {timeout:g} s")
            except (httpx.HTTPError, OSError) as exc:
                # Reset, or not HTTP; once the status is in, the answer counts.
                return answered[0] if answered else _no_answer(f"{type(exc).__name__}: {exc}")
        return Outcome(None, "no address to connect to")

    def next_delay(self, attempt: int, outcome: Outcome) -> float | None:
        """Seconds before attempt ``attempt + 1``, or None if ``attempt`` was the last."""
        schedule = self.settings.webhook_retry_schedule
        if attempt > len(schedule) or outcome.status_code == 410:
            return None
        wait = max(schedule[attempt - 1], min(outcome.retry_after or 0.0, MAX_RETRY_AFTER))
        return wait * self.settings.webhook_retry_factor


async def _read_some(response: httpx.Response) -> None:
    """Read at most ``MAX_ANSWER_BYTES`` of the body; leaving the stream closes the rest."""
    seen = 0
    async for chunk in response.aiter_raw():
        seen += len(chunk)
        if seen >= MAX_ANSWER_BYTES:
            return


def cut(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """``text`` as a log keeps it: at most ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _no_answer(cause: str) -> Outcome:
    return Outcome(None, NO_ANSWER, cause=cut(cause.rstrip(": ")))


def _outcome(response: httpx.Response, now: float) -> Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(code, None)
    error = f"HTTP {code} {cut(response.reason_phrase)}".strip()
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
    seconds = whole_number(raw)  # ASCII digits only: "²" is not a number of seconds
    if seconds is not None:
        return float(seconds)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - now)
    except (TypeError, ValueError):
        return None
