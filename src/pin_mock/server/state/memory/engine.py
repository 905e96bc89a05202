"""``MemoryEngine``: every state port, kept in this process (``memory://``, the default).

Nothing to install, lost on restart, one worker (``Settings`` refuses more).
"""

from __future__ import annotations

from pin_mock.server.state.journal_port import JournalLimits
from pin_mock.server.state.memory.chaos import MemoryChaos
from pin_mock.server.state.memory.clocks import MemoryClocks
from pin_mock.server.state.memory.counters import MemoryCounters
from pin_mock.server.state.memory.event_archive import MemoryEventArchive
from pin_mock.server.state.memory.health import MemoryHealth
from pin_mock.server.state.memory.journal import MemoryJournal
from pin_mock.server.state.memory.keys import MemoryIdSpace, MemorySigningKeys
from pin_mock.server.state.memory.queue import MemoryQueue
from pin_mock.server.state.memory.reports import MemoryReports
from pin_mock.server.state.memory.tenant import Tenants
from pin_mock.server.state.memory.tenants import MemoryTenants
from pin_mock.server.state.memory.webhooks import MemoryWebhooks


class MemoryEngine:
    """The ``StateEngine`` port in this process."""

    url = "memory://"

    def __init__(self) -> None:
        registry = Tenants()
        self.report_jobs = MemoryQueue("reports")
        self.deliveries = MemoryQueue("deliveries")
        self.webhooks = MemoryWebhooks(registry, self.deliveries)
        self.reports = MemoryReports(registry, self.report_jobs)
        self.tenants = MemoryTenants(registry, self.webhooks, (self.deliveries, self.report_jobs))
        self.archive = MemoryEventArchive(registry)
        self.keys = MemorySigningKeys()
        self.ids = MemoryIdSpace()
        self.chaos = MemoryChaos()
        self.health = MemoryHealth({"reports": self.report_jobs, "deliveries": self.deliveries})
        self.clocks = MemoryClocks(
            registry, {"reports": self.report_jobs, "deliveries": self.deliveries}
        )
        self._counters: dict[str, MemoryCounters] = {}

    def counters(self, name: str) -> MemoryCounters:
        if name not in self._counters:
            self._counters[name] = MemoryCounters()
        return self._counters[name]

    def journal(self, limits: JournalLimits) -> MemoryJournal:
        """The request journal (``journal_port.py``), one per app."""
        return MemoryJournal(limits)

    async def aclose(self) -> None:
        """Nothing to close: the state goes with the process."""
