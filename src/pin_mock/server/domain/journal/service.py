"""The request journal: each client's last exchanges, to list, filter and follow.

``record`` is called by the pipeline's journal layer after each answer of a
client (``pipeline/journal.py``) and ``record_webhook`` by the webhook
dispatcher after each attempt; both only make the entry safe (secrets
redacted) and hand it to the engine (``state/journal_port.py``), which never
waits on the request path and formats it later (``entries.py``).
``page`` and ``follow`` serve ``GET /_sandbox/requests`` and its live stream.
Every call names the client: a client reads only its own journal.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pin_mock.server.domain.journal.entries import Built, Exchange, webhook_entry
from pin_mock.server.state.journal_port import JournalStore
from pin_mock.server.timestamps import iso_millis

#: The operations whose answers carry a secret (an access token, a webhook's signing
#: secret): redacted as soon as they are recorded, not when first read.
SECRET_OPERATIONS = frozenset({"issueToken", "createWebhook"})
#: ``operation=webhook`` selects the webhook deliveries.
WEBHOOKS = "webhook"
_STATUS = re.compile(r"^([1-5])([0-9]{2}|xx)$")


class Filter:
    """Which entries a reader wants: by operation, status (``404``, ``4xx``, comma-separated)
    and time (at or after ``since``)."""

    def __init__(
        self, operation: str | None = None, status: str | None = None, since: datetime | None = None
    ) -> None:
        self.operation = operation
        self.statuses = [_STATUS.match(s.strip()) for s in status.split(",")] if status else []
        self.since = iso_millis(since.timestamp()) if since else None

    def __call__(self, entry: dict[str, Any]) -> bool:
        if self.operation is not None:
            wanted = entry["kind"] == "webhook" if self.operation == WEBHOOKS else None
            if wanted is None and entry.get("operation") != self.operation:
                return False
            if wanted is False:
                return False
        if self.since is not None and entry["time"] < self.since:
            return False
        if self.statuses:
            status = str(entry.get("status") or "")
            return any(
                m is not None
                and (status == m.group(0) or (m.group(2) == "xx" and status[:1] == m.group(1)))
                for m in self.statuses
            )
        return True


class Journal:
    """The journal service; a worker of the app's lifespan (it writes what is kept back)."""

    def __init__(self, store: JournalStore, size: int, body_bytes: int) -> None:
        self.store = store
        self.size = size
        self.body_bytes = body_bytes

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def record(self, client_id: str, exchange: Exchange) -> None:
        """Keep one exchange of ``client_id`` (the journal layer, after the answer)."""
        exchange.keep = self.body_bytes
        eager = exchange.operation in SECRET_OPERATIONS
        self.store.append(client_id, exchange.guard(eager))

    def record_webhook(
        self,
        client_id: str,
        *,
        started: float,
        duration_ms: float,
        url: str,
        status_code: int | None,
        body: bytes,
        webhook: dict[str, Any],
    ) -> None:
        """Keep one webhook delivery attempt of ``client_id`` (the dispatcher, after it)."""
        if self.enabled:
            entry = webhook_entry(
                started=started,
                duration_ms=duration_ms,
                url=url,
                status=status_code,
                body=body,
                keep=self.body_bytes,
                webhook=webhook,
            )
            self.store.append(client_id, Built(entry))

    async def page(self, client_id: str, wanted: Filter, limit: int) -> dict[str, Any]:
        """The newest ``limit`` entries ``wanted`` selects, newest first."""
        matching = [entry for entry in await self.store.entries(client_id) if wanted(entry)]
        # Newest first by time: on Redis a worker's held entries may be written late.
        matching.sort(key=lambda entry: entry["time"], reverse=True)
        return {
            "client_id": client_id,
            "data": matching[:limit],
            "has_more": len(matching) > limit,
            "matched": len(matching),
            "journal_size": self.size,
            "body_bytes": self.body_bytes,
        }

    async def follow(
        self, client_id: str, wanted: Filter, after: str | None, seconds: float, heartbeat: float
    ) -> AsyncIterator[dict[str, Any] | None]:
        """Entries as they come, for ``seconds``; None every ``heartbeat`` s of silence.

        Starts after the entry ``after`` (a reconnecting reader's ``Last-Event-ID``),
        else with what ``wanted.since`` selects already, else with what comes next.
        """
        deadline = time.monotonic() + seconds
        if after is None:
            backlog = await self.store.entries(client_id)
            if wanted.since is None:
                after = backlog[-1]["id"] if backlog else None
                backlog = []
        else:
            backlog = await self.store.entries(client_id, after)
        quiet_since = time.monotonic()
        while True:
            for entry in backlog:
                after = entry["id"]
                if wanted(entry):
                    quiet_since = time.monotonic()
                    yield entry
            now = time.monotonic()
            if now >= deadline:
                return
            if now - quiet_since >= heartbeat:
                quiet_since = now
                yield None  # a heartbeat: the stream is alive
            backlog = await self.store.entries(client_id, after)
            if not backlog:  # memory: nothing can be appended between the look and the wait
                await self.store.wait(client_id, min(deadline - now, heartbeat))
                backlog = await self.store.entries(client_id, after)

    async def clear(self, client_id: str) -> None:
        await self.store.clear(client_id)

    async def start(self) -> None:
        """Nothing to start: what is kept back is written by the engine itself."""

    async def aclose(self) -> None:
        await self.store.aclose()
