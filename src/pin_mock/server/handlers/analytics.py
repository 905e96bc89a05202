"""Analytics: outcomes and population health, computed from the caller's data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pin_mock.server.domain.analytics as analytics
from pin_mock.server.domain.callers import Caller
from pin_mock.server.domain.dates import check_date_range
from pin_mock.server.domain.store import Store


async def get_outcomes(
    store: Store,
    caller: Caller,
    start_date: str | None = None,
    end_date: str | None = None,
    patient_id: str | None = None,
    interval: str = "month",
) -> dict[str, Any]:
    """GET /v1/analytics/outcomes"""
    check_date_range(start_date, end_date)
    return await analytics.outcomes(
        store,
        caller.client_id,
        start_date=start_date,
        end_date=end_date,
        patient_id=patient_id,
        interval=interval,
    )


async def get_population_health(
    store: Store, caller: Caller, today: Callable[[], date]
) -> dict[str, Any]:
    """GET /v1/analytics/population-health (ages on the sandbox clock's date)."""
    return await analytics.population_health(store, caller.client_id, today=today())
