"""Domain events and their webhook deliveries: ``patient.created``, ``report.completed``...

An event becomes one delivery per webhook of the owning client subscribed to
its type, all with one event id and one body, queued on the engine's delivery
queue; the one dispatcher (``background/webhooks/dispatcher.py``) delivers
them. A create announces its event with ``emit_with``: the deliveries are
queued in the same atomic step as the write (``EventDeliveries``), so a 201
means they are queued and a refused write (404, 409) queues and announces
nothing; a lost or full Redis is a 503 with neither written. Other events (a
report's end) use ``emit``. Deliveries the pending cap pushes out are logged
``not_delivered``. Observers (``subscribe``) hear each event once it is queued.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pin_mock.server.domain.ids import IdFactory
from pin_mock.server.domain.webhooks.deliveries import (
    Message,
    delivery_job,
    dropped_reason,
    give_up,
    new_event,
)
from pin_mock.server.state.ports import SHUTTING_DOWN, EventDeliveries, WebhookStore
from pin_mock.server.state.unread import Subscribed

T = TypeVar("T")
Observer = Callable[[str, str, dict[str, Any]], None]

logger = logging.getLogger("pin_mock.webhooks")


class Events:
    """Announces events: stages their deliveries, queues them, tells the observers."""

    def __init__(
        self, webhooks: WebhookStore, ids: IdFactory, clock: Callable[[], float], cap: int
    ) -> None:
        self.webhooks = webhooks
        self.ids = ids
        self.clock = clock
        #: ``quota_pending_deliveries``: deliveries one client may have pending.
        self.cap = cap
        self._observers: list[Observer] = []

    def subscribe(self, observer: Observer) -> None:
        """Call ``observer(client_id, event_type, data)`` for every event announced."""
        self._observers.append(observer)

    async def emit(self, client_id: str, event_type: str, data: dict[str, Any]) -> None:
        """Announce an event that no write carries (a report's end)."""
        staged = await self._stage(client_id, event_type, data)
        if staged is not None:
            await self.webhooks.enqueue(staged)
            await self._settle(staged)
        self._tell(client_id, event_type, data)

    async def emit_with(
        self,
        client_id: str,
        event_type: str,
        data: dict[str, Any],
        write: Callable[[EventDeliveries | None], Awaitable[T]],
    ) -> T:
        """Run ``write`` (a create, given the event's deliveries to queue in its own atomic
        step) and announce its event; a refused write raises and announces nothing.

        The write first goes without reading the webhooks (one Redis round trip, not
        two), and stores only if no webhook subscribes to the event; else the
        deliveries are staged and the write runs again with them (``state/unread.py``).
        """
        staged: EventDeliveries | None = None
        try:
            result = await write(EventDeliveries(client_id, [], self.cap, unread=event_type))
        except Subscribed:
            staged = await self._stage(client_id, event_type, data)
            result = await write(staged)
        if staged is not None:
            await self._settle(staged)
        self._tell(client_id, event_type, data)
        return result

    async def _stage(
        self, client_id: str, event_type: str, data: dict[str, Any]
    ) -> EventDeliveries | None:
        """The event's deliveries, one per subscribed webhook; None when no webhook wants it."""
        hooks = [w for w in await self.webhooks.all(client_id) if event_type in w["events"]]
        if not hooks:
            return None
        event_id, body = new_event(self.ids, self.clock, event_type, data)
        jobs = [delivery_job(client_id, event_id, event_type, w["id"], body) for w in hooks]
        return EventDeliveries(client_id, jobs, self.cap)

    async def _settle(self, staged: EventDeliveries) -> None:
        """Log what the queued event pushed out (or what a stopped queue refused)."""
        for given_up in staged.given_up:
            if given_up.reason == SHUTTING_DOWN:
                why = "the sandbox is shutting down"
            else:
                why = dropped_reason(self.cap)
            message = Message.of(staged.client_id, given_up.member, None, b"")
            # The event is queued (the client gets its answer): a log entry that cannot
            # be written now must not turn that into an error the client would retry.
            try:
                await give_up(self.webhooks, self.ids, self.clock, message, given_up.attempt, why)
            except Exception:
                logger.exception("webhooks: the drop of %s was not logged", given_up.member)

    def _tell(self, client_id: str, event_type: str, data: dict[str, Any]) -> None:
        for observer in self._observers:
            observer(client_id, event_type, data)
