"""Analytics: outcomes and population health, computed from the caller's data."""

from __future__ import annotations

from typing import Any

from pin_mock.server import analytics
from pin_mock.server.handlers._http import client_id, services
from pin_mock.server.validation import check_date_range


async def get_outcomes(
    start_date: str | None = None,
    end_date: str | None = None,
    patient_id: str | None = None,
    interval: str = "month",
) -> dict[str, Any]:
    """GET /v1/analytics/outcomes"""
    check_date_range(start_date, end_date)
    return analytics.outcomes(
        services().store,
        client_id(),
        start_date=start_date,
        end_date=end_date,
        patient_id=patient_id,
        interval=interval,
    )


async def get_population_health() -> dict[str, Any]:
    """GET /v1/analytics/population-health (ages on the sandbox clock's date)."""
    svc = services()
    return analytics.population_health(svc.store, client_id(), today=svc.today())
