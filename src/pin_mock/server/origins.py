"""Where a background job comes from: the trace context of what queued it.

With ``--traces``, a request's span (``observability/tracing.py``) names itself
here for as long as the request runs, and so does a background job's span. The
domain writes it into the jobs it queues (``ORIGIN_FIELD``: a report's job, a
webhook delivery, whose retries keep it), and the job's own span links back to
it: a trace backend leads from ``POST /v1/reports`` to the job that built the
report, and from that job to every attempt of the ``report.completed`` delivery.
Without traces nothing is named and the jobs carry nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

#: A job's field holding its origin: a W3C ``traceparent`` string.
ORIGIN_FIELD = "o"
#: Makes the ``traceparent`` of the running request or job (only when traced).
ORIGIN: ContextVar[Callable[[], str] | None] = ContextVar("pin_mock_origin", default=None)


def stamped(job: dict[str, Any]) -> dict[str, Any]:
    """``job`` with its origin, when there is one (traces on)."""
    made = ORIGIN.get()
    if made is not None:
        job[ORIGIN_FIELD] = made()
    return job
