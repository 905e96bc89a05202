"""Reports in memory (the ``ReportStore`` port): in each client's ``Tenant.reports``.

``add`` checks the quota, stores the view and queues its job with no ``await``
between them (all or nothing); ``advance`` is the compare-and-set on the status
that ``state/redis/reports.py`` runs as a script.
"""

from __future__ import annotations

from typing import Any

from pin_mock.server.state.memory.queue import MemoryQueue
from pin_mock.server.state.memory.tenant import StoredReport, Tenants
from pin_mock.server.state.ports import Job


class MemoryReports:
    """``ReportStore`` over the process's tenants; report jobs go to ``queue``."""

    def __init__(self, tenants: Tenants, queue: MemoryQueue) -> None:
        self.tenant = tenants.get
        self.queue = queue

    def _reports(self, client_id: str) -> dict[str, StoredReport]:
        return self.tenant(client_id).reports

    async def add(self, client_id: str, view: dict[str, Any], cap: int, job: Job) -> int | None:
        reports = self._reports(client_id)
        if len(reports) + 1 > cap:
            return len(reports)
        self.queue.put_nowait(job)  # first: a stopped queue refuses, and nothing is stored
        reports[view["id"]] = StoredReport(view)
        return None

    async def get(self, client_id: str, report_id: str) -> dict[str, Any] | None:
        stored = self._reports(client_id).get(report_id)
        return None if stored is None else stored.view

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        return [stored.view for stored in self._reports(client_id).values()]

    async def file(self, client_id: str, report_id: str) -> bytes | None:
        stored = self._reports(client_id).get(report_id)
        return None if stored is None else stored.content

    async def advance(
        self,
        client_id: str,
        view: dict[str, Any],
        allowed: tuple[str, ...],
        changes: dict[str, Any],
        content: bytes | None = None,
    ) -> bool:
        stored = self._reports(client_id).get(view["id"])
        if stored is None or stored.view["status"] not in allowed:
            return False
        stored.view.update(changes)
        if content is not None:
            stored.content = content
        return True
