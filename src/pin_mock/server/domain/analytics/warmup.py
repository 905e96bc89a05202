"""Warm-up: compute the seeded aggregates the default requests need, at start-up.

Without it, the first ``GET /v1/analytics/...`` after start-up or a sandbox
reset pays for a pass over every seeded history (noticeable at 100,000
patients); with it, that first answer is as quick as the next.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from pin_mock.server.domain.analytics.patient_outcomes import seeded_outcomes
from pin_mock.server.domain.analytics.population import seeded_population

if TYPE_CHECKING:
    from pin_mock.server.domain.store import Store


def warm(store: Store, today: date | None = None) -> None:
    """Compute the seeded aggregates the default requests need (call at start-up)."""
    today = today or datetime.now(UTC).date()
    seeded_outcomes(store, None, None)
    seeded_population(store, today)
