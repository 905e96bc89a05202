"""Rate limits: the ``X-RateLimit-*`` headers, ``Retry-After``, and one window's counter.

The header rules judge one response. ``WindowTracker`` judges a sequence: within
one window (same ``X-RateLimit-Reset``) and for one client (same credentials),
``Remaining`` never goes up. Requests overlap when Schemathesis runs several
workers, so a response is only compared with responses that were complete
before it was sent: in the same thread that is exact, across threads a margin
covers the time between a response arriving and its check running.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown
from pin_mock.contract.spec import Spec

HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
_INT = re.compile(r"^\s*\d+\s*$")
#: A reset further away than this is not an epoch-seconds time (milliseconds, say).
MAX_RESET_AHEAD = 366 * 24 * 3600


def _int_header(ex: Exchange, name: str) -> int:
    values = ex.header_values(name)
    if not values:
        fail(f"{ex.status} answer lacks the {name} header (every /v1 response carries it)")
    if len(values) > 1:
        fail(f"{name} is sent {len(values)} times: {values}")
    if not _INT.match(values[0]):
        fail(f"{name} must be a non-negative integer, got {shown(values[0])}")
    return int(values[0])


def server_time(ex: Exchange, clock: Callable[[], float] = time.time, skew: float = 5.0) -> float:
    """Now, by the server's ``Date`` header if it has one, else by our clock minus ``skew``."""
    date = ex.header("date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return clock() - skew


@check("pin_rate_limit_headers")
def rate_limit_headers(ex: Exchange, spec: Spec, clock: Callable[[], float] = time.time) -> None:
    """X-RateLimit-Limit/Remaining/Reset on every API answer: integers, consistent, future reset."""
    if not spec.in_api(ex.template):
        return
    limit, remaining, reset = (_int_header(ex, name) for name in HEADERS)
    if limit < 1:
        fail(f"X-RateLimit-Limit must be at least 1, got {limit}")
    if remaining > limit:
        fail(f"X-RateLimit-Remaining {remaining} exceeds X-RateLimit-Limit {limit}")
    now = server_time(ex, clock)
    # Whole seconds on both sides: a reset in the current second still counts as future.
    if reset < int(now):
        fail(
            f"X-RateLimit-Reset {reset} is in the past (server time {int(now)}); "
            "it must be the epoch second the window ends"
        )
    if reset > now + MAX_RESET_AHEAD:
        fail(f"X-RateLimit-Reset {reset} is more than a year ahead: not epoch seconds")


@check("pin_retry_after")
def retry_after(ex: Exchange, spec: Spec) -> None:
    """A 429 of the API carries Retry-After in whole seconds."""
    if ex.status != 429 or not spec.in_api(ex.template):
        return
    value = ex.header("retry-after")
    if value is None:
        fail("429 without a Retry-After header")
    if not _INT.match(value):
        fail(f"Retry-After must be whole seconds, got {shown(value)}")


@dataclass
class _Window:
    """Observations of one (client, window): times with the running minimum of Remaining."""

    times: list[float] = field(default_factory=list)
    minimums: list[int] = field(default_factory=list)
    last_by_thread: dict[int, int] = field(default_factory=dict)

    def add(self, at: float, remaining: int) -> None:
        low = min(remaining, self.minimums[-1]) if self.minimums else remaining
        index = bisect.bisect(self.times, at)
        if index == len(self.times):
            self.times.append(at)
            self.minimums.append(low)
            return
        # Out-of-order observation (rare, threads): insert and repair the running minimum.
        self.times.insert(index, at)
        self.minimums.insert(index, remaining)
        for i in range(index, len(self.minimums)):
            previous = self.minimums[i - 1] if i else self.minimums[i]
            self.minimums[i] = min(self.minimums[i], previous)

    def lowest_before(self, at: float) -> int | None:
        index = bisect.bisect_left(self.times, at)
        return self.minimums[index - 1] if index else None


@check("PinRateLimitWindow", per_run=True)
class WindowTracker:
    """X-RateLimit-Remaining never goes up within one window for one client (thread-safe)."""

    def __init__(self, margin: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.margin = margin
        self.clock = clock
        self._windows: dict[tuple[str, int, int], _Window] = {}
        self._lock = threading.Lock()

    def __call__(self, ex: Exchange, spec: Spec) -> None:
        """The rule: observe every answer of the API."""
        if spec.in_api(ex.template):
            self.observe(ex)

    def observe(self, ex: Exchange, thread: int | None = None) -> None:
        """Record one response; fail if its ``Remaining`` went up."""
        try:
            limit, remaining, reset = (int(ex.header(name) or "") for name in HEADERS)
        except ValueError:
            return  # malformed headers are rate_limit_headers' failure
        thread = threading.get_ident() if thread is None else thread
        client = ex.request_headers.get("authorization", "")
        now = self.clock()
        sent = now - ex.elapsed
        with self._lock:
            window = self._windows.setdefault((client, limit, reset), _Window())
            previous = window.last_by_thread.get(thread)
            # Other threads' answers count only if they were in well before this request left.
            earlier = window.lowest_before(sent - self.margin)
            window.add(now, remaining)
            window.last_by_thread[thread] = remaining
        bounds = [v for v in (previous, earlier) if v is not None]
        if bounds and remaining > min(bounds):
            fail(
                f"X-RateLimit-Remaining went up from {min(bounds)} to {remaining} within one "
                f"window (X-RateLimit-Reset {reset}) for the same client"
            )
