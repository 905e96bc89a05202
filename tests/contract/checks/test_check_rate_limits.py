"""Rate-limit headers, Retry-After, and the per-window counter across responses."""

from __future__ import annotations

import threading
import time

import pytest

from kit_helpers import SPEC, rate_headers
from pin_mock.contract.checks import rate_limits
from pin_mock.contract.exchange import ContractViolation, Exchange


def test_rate_limit_headers_accept_pins_headers(make_exchange):
    rate_limits.rate_limit_headers(make_exchange(200, {}), SPEC)
    rate_limits.rate_limit_headers(
        make_exchange(404, {}, template="/v1/patients/{patient_id}"), SPEC
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "lacks the x-ratelimit-limit"),
        (
            {"x-ratelimit-limit": ["1000"], "x-ratelimit-remaining": ["999"]},
            "lacks the x-ratelimit-reset",
        ),
        (rate_headers() | {"x-ratelimit-remaining": ["many"]}, "non-negative integer"),
        (rate_headers() | {"x-ratelimit-remaining": ["-1"]}, "non-negative integer"),
        (rate_headers() | {"x-ratelimit-limit": ["10", "10"]}, "sent 2 times"),
        (rate_headers(limit=10, remaining=11), "exceeds"),
        (rate_headers(limit=0, remaining=0), "at least 1"),
        (rate_headers(reset=3600), "in the past"),
        (rate_headers(reset=int(time.time() * 1000)), "more than a year ahead"),
    ],
)
def test_rate_limit_headers_reject_broken_headers(make_exchange, headers, expected):
    with pytest.raises(ContractViolation, match=expected):
        rate_limits.rate_limit_headers(make_exchange(200, {}, headers=headers), SPEC)


def test_reset_is_judged_by_the_servers_clock_when_it_sends_one(make_exchange):
    # The server's Date says 1000 s ago; its reset 500 s ago is still ahead of *its* now.
    headers = rate_headers(reset=int(time.time()) - 500)
    headers["date"] = [time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 1000))]
    rate_limits.rate_limit_headers(make_exchange(200, {}, headers=headers), SPEC)


def test_rate_limit_headers_only_apply_under_v1(make_exchange):
    rate_limits.rate_limit_headers(
        make_exchange(200, {}, template="/oauth/token", headers={}), SPEC
    )


def test_429_needs_retry_after(make_exchange):
    body = {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "x"}}
    with pytest.raises(ContractViolation, match="without a Retry-After"):
        rate_limits.retry_after(make_exchange(429, body), SPEC)
    with pytest.raises(ContractViolation, match="whole seconds"):
        rate_limits.retry_after(
            make_exchange(429, body, headers=rate_headers() | {"retry-after": ["soon"]}), SPEC
        )
    rate_limits.retry_after(
        make_exchange(429, body, headers=rate_headers() | {"retry-after": ["30"]}), SPEC
    )


def answer(
    remaining: int, reset: int = 2_000_000_000, token: str = "Bearer a", elapsed: float = 0.01
) -> Exchange:
    return Exchange(
        "GET", "http://pin.test/v1/patients", 200, rate_headers(remaining=remaining, reset=reset),
        request_headers={"Authorization": token}, elapsed=elapsed,
    )  # fmt: skip


def test_window_tracker_accepts_a_counter_going_down():
    tracker = rate_limits.WindowTracker()
    for remaining in (10, 9, 9, 5):
        tracker.observe(answer(remaining), thread=1)


def test_window_tracker_rejects_a_counter_going_up_in_one_thread():
    tracker = rate_limits.WindowTracker()
    tracker.observe(answer(10), thread=1)
    with pytest.raises(ContractViolation, match="went up from 10 to 11"):
        tracker.observe(answer(11), thread=1)


def test_window_tracker_separates_windows_and_clients():
    tracker = rate_limits.WindowTracker()
    tracker.observe(answer(10), thread=1)
    tracker.observe(answer(999, reset=2_000_003_600), thread=1)
    tracker.observe(answer(500, token="Bearer other"), thread=1)


def test_window_tracker_compares_threads_only_for_requests_sent_after_an_answer():
    clock = [100.0]
    tracker = rate_limits.WindowTracker(margin=0.5, clock=lambda: clock[0])
    tracker.observe(answer(10), thread=1)
    # Thread 2's request overlapped thread 1's answer: it may carry a higher count.
    clock[0] = 100.2
    tracker.observe(answer(11, elapsed=0.3), thread=2)
    # A request sent a second after thread 1's answer must not see more left.
    clock[0] = 102.0
    with pytest.raises(ContractViolation, match="went up"):
        tracker.observe(answer(12, elapsed=0.01), thread=3)


def test_window_tracker_is_thread_safe_for_honest_counters():
    tracker = rate_limits.WindowTracker()
    counter = iter(range(10_000, 0, -1))
    lock = threading.Lock()
    errors = []

    def work():
        for _ in range(200):
            with lock:
                remaining = next(counter)
            try:
                tracker.observe(answer(remaining))
            except ContractViolation as exc:  # pragma: no cover - the failure we look for
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
