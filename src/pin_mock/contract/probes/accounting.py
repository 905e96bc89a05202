"""Rate-limit accounting: each counted request costs exactly one, and 429 means spent.

A handful of requests in a row, on a freshly minted token, one at a time: within
one window (same ``X-RateLimit-Limit`` and ``Reset``) ``Remaining`` drops by
exactly one per request and never below zero; ``Reset`` does not move within
the window. A 429 before the budget is spent (``Remaining`` at least 2 on the
previous answer) is a finding, and so is a 429 that does not say ``Remaining: 0``.
It never spends a whole tier: a few requests are enough to compare.
"""

from __future__ import annotations

from pin_mock.contract.exchange import Exchange
from pin_mock.contract.probes.framework import Probe, ProbeContext, body_of

ACCOUNTING = "pin_rate_limit_accounting"
REQUESTS = 5


def numbers(ex: Exchange) -> tuple[int, int, int] | None:
    """(limit, remaining, reset) of an answer, or ``None`` when they are not integers."""
    try:
        return tuple(
            int(ex.header(f"x-ratelimit-{n}") or "") for n in ("limit", "remaining", "reset")
        )  # type: ignore[return-value]
    except ValueError:
        return None  # malformed headers are pin_rate_limit_headers' finding


def accounting(ctx: ProbeContext) -> None:
    minted = ctx.grant(None)
    token = str(body_of(minted).get("access_token", "")) if minted.status == 200 else None
    bearer = {"token": f"Bearer {token}"} if token else {}
    previous: tuple[int, int, int] | None = None
    for _ in range(REQUESTS):
        ex = ctx.call("listPatients", params={"limit": 1}, **bearer)
        found = numbers(ex)
        if found is None:
            return
        limit, remaining, reset = found
        if ex.status == 429:
            ctx.expect(
                remaining == 0, ACCOUNTING, f"429 with X-RateLimit-Remaining {remaining}, not 0", ex
            )
            ctx.expect(previous is None or previous[1] <= 1, ACCOUNTING,
                       f"429 although the previous answer had {previous[1] if previous else 'an unknown number of'} requests left", ex)  # fmt: skip
            return
        if previous is not None and previous[0] == limit and previous[2] == reset:
            ctx.expect(previous[1] - remaining == 1, ACCOUNTING,
                       f"X-RateLimit-Remaining went from {previous[1]} to {remaining} over one request", ex)  # fmt: skip
        previous = found


ACCOUNTING_PROBES = [
    Probe(
        "rate-limit accounting: one request costs one", ("listPatients",), accounting, (ACCOUNTING,)
    ),
]
