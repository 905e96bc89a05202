"""Every PIN check, loaded: importing this module registers each check module's checks.

``ALL_CHECKS`` is the registry once every check module has been imported; the
Schemathesis checks, the probes' ambient rules and ``CHECK_NAMES`` are read from
it, so a new check needs its module listed here and nothing else.
"""

from __future__ import annotations

from pin_mock.contract.checks import (
    aggregates,
    challenges,
    envelope,
    filters,
    oauth,
    paging,
    rate_limits,
    resources,
    tracing,
    writes,
)
from pin_mock.contract.checks.registry import Check, registered

#: The modules whose checks make up the kit (their import registers them).
CHECK_MODULES = (
    envelope, challenges, tracing, oauth, rate_limits, paging, filters, resources, aggregates, writes,
)  # fmt: skip

ALL_CHECKS: tuple[Check, ...] = registered()
CHECK_NAMES: tuple[str, ...] = tuple(check.name for check in ALL_CHECKS)
