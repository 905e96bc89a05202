"""What a report's document is built from: the store and the sandbox clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pin_mock.server.domain.store import Store


@dataclass(frozen=True)
class ReportSources:
    """The store a report reads, and the clock it is dated by."""

    store: Store
    clock: Callable[[], float]

    def today(self) -> date:
        """The sandbox clock's date (UTC): ages and "latest" figures are computed on it."""
        return datetime.fromtimestamp(self.clock(), UTC).date()
