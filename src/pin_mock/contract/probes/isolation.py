"""Rate-limit isolation: another client's requests never spend this client's budget.

With a second client (``--second-client-id``): the run's client reads its
``X-RateLimit-Remaining``, the second client sends a few requests, and the
run's client reads it again. Within one window (same ``Limit`` and ``Reset``)
its budget went down by its own one request only; the second client's
requests are counted in the second client's budget.
"""

from __future__ import annotations

from pin_mock.contract.probes.accounting import numbers
from pin_mock.contract.probes.framework import Probe, ProbeContext
from pin_mock.contract.probes.tenancy import second_bearer

ISOLATION = "pin_rate_limit_isolation"
#: Requests the second client sends between the two readings.
OTHERS = 5


def isolation(ctx: ProbeContext) -> None:
    bearer = second_bearer(ctx)
    before = ctx.call("listPatients", params={"limit": 1})
    for _ in range(OTHERS):
        ctx.call("listPatients", params={"limit": 1}, token=bearer)
    after = ctx.call("listPatients", params={"limit": 1})
    first, second = numbers(before), numbers(after)
    if first is None or second is None or first[0] != second[0] or first[2] != second[2]:
        return  # unreadable headers are another check's; a window ended in between
    spent = first[1] - second[1]
    ctx.expect(spent <= 1, ISOLATION,
               f"X-RateLimit-Remaining of client {ctx.client_id} went from {first[1]} to {second[1]} "
               f"while it sent one request and another client sent {OTHERS}", after)  # fmt: skip


ISOLATION_PROBES = [
    Probe("rate limits: another client's requests do not spend this client's budget",
          ("listPatients",), isolation, (ISOLATION,)),
]  # fmt: skip
