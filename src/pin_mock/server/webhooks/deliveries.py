"""What a delivery is, and the per-webhook log of attempts the API lists.

A ``Message`` is one event on its way to one webhook; each attempt to deliver
it gives an ``Outcome``. Every attempt, and every message given up on, is
appended to the owning tenant's log as a ``Delivery`` object (what
``GET /v1/webhooks/{id}/deliveries`` returns) and logged as one line on the
``pin_mock.webhooks`` logger, with the fields in ``extra`` for JSON logs:
INFO for an attempt, WARNING for a delivery given up without an attempt
(``not_delivered``). A webhook removed meanwhile gets no more log entries:
its log went with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pin_mock.server.encoding import encode
from pin_mock.server.timestamps import iso_millis as iso

if TYPE_CHECKING:  # services imports this package to install it
    from pin_mock.server.services import Services

logger = logging.getLogger("pin_mock.webhooks")

#: Oldest attempts are dropped past this many per webhook, so a long run stays bounded.
MAX_LOG = 1_000


def new_event(services: Services, event_type: str, data: dict[str, Any]) -> tuple[str, bytes]:
    """A new event's id and the body each subscribed webhook receives (both dispatchers)."""
    event_id = services.store.ids.new("msg")
    created_at = iso(services.clock())
    event = {"id": event_id, "type": event_type, "created_at": created_at, "data": data}
    return event_id, encode(event)


@dataclass(frozen=True)
class Message:
    """One event on its way to one webhook."""

    client_id: str
    webhook_id: str
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave."""

    status_code: int | None
    error: str | None
    retry_after: float | None = None
    #: The target was outside the policy: nothing was sent, and nothing will be.
    blocked: bool = False
    #: The exact cause of a failure without an answer, for the server's log line only:
    #: the delivery log says the same words for every such failure (no port map).
    cause: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DeliveryLog:
    """Appends attempts to the tenants' delivery logs in ``services.store``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def subscribed(self, message: Message) -> bool:
        """Whether the message's webhook still exists."""
        return message.webhook_id in self.services.store.tenant(message.client_id).webhooks

    def record(
        self,
        message: Message,
        attempt: int,
        status: str,
        outcome: Outcome | None = None,
        duration_ms: float | None = None,
        started: float | None = None,
        next_retry_at: str | None = None,
        *,
        error: str | None = None,
    ) -> None:
        """Log one attempt (a line, and an entry in the webhook's delivery log)."""
        self.announce(message, attempt, status, outcome, duration_ms, error=error)
        if not self.subscribed(message):
            return
        store = self.services.store
        log = store.tenant(message.client_id).deliveries.setdefault(message.webhook_id, [])
        at = iso(self.services.clock() if started is None else started)
        log.append(
            entry(
                store.ids.new("dlv"),
                message,
                attempt,
                status,
                outcome,
                duration_ms,
                at,
                next_retry_at,
                error,
            )
        )
        del log[:-MAX_LOG]

    def announce(
        self,
        message: Message,
        attempt: int,
        status: str,
        outcome: Outcome | None = None,
        duration_ms: float | None = None,
        *,
        error: str | None = None,
    ) -> None:
        """One log line for one attempt or one delivery given up on."""
        code = outcome.status_code if outcome else None
        detail = (outcome.error if outcome else None) or error
        level = logging.WARNING if status == "not_delivered" else logging.INFO
        took = "" if duration_ms is None else f" in {duration_ms:g} ms"
        logger.log(
            level,
            "webhook %s %s %s attempt %d: %s%s%s%s",
            message.webhook_id,
            message.event_type,
            message.event_id,
            attempt,
            status,
            f" {code}" if code is not None else "",
            took,
            f" ({detail})" if detail and code is None else "",
            extra={
                "client_id": message.client_id,
                "webhook_id": message.webhook_id,
                "event_type": message.event_type,
                "event_id": message.event_id,
                "attempt": attempt,
                "outcome": status,
                "status_code": code,
                "duration_ms": duration_ms,
                "error": detail,
                "cause": outcome.cause if outcome else None,
            },
        )


def entry(
    delivery_id: str,
    message: Message,
    attempt: int,
    status: str,
    outcome: Outcome | None,
    duration_ms: float | None,
    attempted_at: str,
    next_retry_at: str | None,
    error: str | None,
) -> dict[str, Any]:
    """One entry of a webhook's delivery log (a ``Delivery`` of the API)."""
    return {
        "id": delivery_id,
        "webhook_id": message.webhook_id,
        "event_id": message.event_id,
        "event_type": message.event_type,
        "attempt": attempt,
        "status": status,
        "status_code": outcome.status_code if outcome else None,
        "error": outcome.error if outcome else error,
        "duration_ms": duration_ms,
        "attempted_at": attempted_at,
        "next_retry_at": next_retry_at,
    }
