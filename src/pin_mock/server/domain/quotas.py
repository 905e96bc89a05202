"""Per-tenant quotas: how much one client's sandbox may hold.

A sandbox hosts many integrators; without a cap one of them can fill the
process (20,000 patients in a row, 30,000 pending deliveries) and slow or
stop everyone. Each quota is a setting (``quota_<name>``) and counts what the
tenant holds now: created patients, created clinical-data entries, reports
(kept until the sandbox is reset), registered webhooks, and webhook deliveries
waiting to be attempted. A create that would pass the quota is refused with
``409 QUOTA_EXCEEDED`` before anything is stored or announced; the details
name the quota, its limit and the current use. 409, not 429: waiting does not
help, deleting (webhooks) or resetting the sandbox (``POST /_sandbox/reset``)
does.

Every quota is checked in the same atomic step as its write (one Lua script on
Redis, no ``await`` between check and write in memory), so it holds across
workers and replicas: patients and entries by the store (``Store.add_patient``,
``add_entry``), reports and webhooks by their storage.
"""

from __future__ import annotations

from typing import Literal

from pin_mock.server.errors import Conflict
from pin_mock.server.settings import Settings

Quota = Literal["patients", "entries", "reports", "webhooks", "pending_deliveries"]

CODE = "QUOTA_EXCEEDED"

#: What each quota counts, as the error message says it.
NOUNS: dict[str, str] = {
    "patients": "patients",
    "entries": "clinical data entries",
    "reports": "reports",
    "webhooks": "webhooks",
    "pending_deliveries": "pending webhook deliveries",
}

#: How to get room back through the API itself (in the sandbox, POST /_sandbox/reset empties
#: all of a client's; its documentation says so, PIN's messages do not).
HINTS: dict[str, str] = {
    "webhooks": " Delete some to make room.",
    "pending_deliveries": " Wait for deliveries to end.",
}


def limit(settings: Settings, quota: Quota) -> int:
    """The configured limit of ``quota`` (``Settings.quota_<quota>``)."""
    return getattr(settings, f"quota_{quota}")


def exceeded(quota: Quota, limit: int, used: int) -> Conflict:
    """The ``409 QUOTA_EXCEEDED`` refusal for ``quota``."""
    noun = NOUNS[quota]
    return Conflict(
        f"Quota exceeded: this client may hold at most {limit} {noun} "
        f"and holds {used}.{HINTS.get(quota, '')}",
        {"quota": quota, "limit": limit, "used": used},
        code=CODE,
    )
