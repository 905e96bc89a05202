"""What a delivery is, and the per-webhook log of attempts the API lists.

A ``Message`` is one event on its way to one webhook; on the delivery queue it
travels as a job (``delivery_job``) and each attempt to deliver it gives an
``Outcome``. Every attempt, and every delivery given up on, is appended to the
webhook's log as a ``Delivery`` object (``entry``: what
``GET /v1/webhooks/{id}/deliveries`` returns, kept by the engine's
``WebhookStore``) and logged as one line on the ``pin_mock.webhooks`` logger
(``announce``), with the fields in ``extra`` for JSON logs: INFO for an
attempt, WARNING for a delivery given up without an attempt (``not_delivered``).
A webhook removed meanwhile gets no more log entries: its log went with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pin_mock.server.domain.ids import IdFactory
from pin_mock.server.encoding import encode
from pin_mock.server.origins import stamped
from pin_mock.server.state.ports import Job, WebhookStore, delivery_member, member_parts
from pin_mock.server.timestamps import iso_millis as iso

logger = logging.getLogger("pin_mock.webhooks")


def new_event(
    ids: IdFactory, clock: Callable[[], float], event_type: str, data: dict[str, Any]
) -> tuple[str, bytes]:
    """A new event's id and the body each subscribed webhook receives."""
    event_id = ids.new("msg")
    event = {"id": event_id, "type": event_type, "created_at": iso(clock()), "data": data}
    return event_id, encode(event)


def delivery_job(
    client_id: str, event_id: str, event_type: str, webhook_id: str, body: bytes, attempt: int = 1
) -> tuple[str, Job]:
    """``(member, job)``: one event's delivery to one webhook, as the queue carries it."""
    member = delivery_member(event_id, event_type, webhook_id)
    job = {"client_id": client_id, "m": member, "body": body.decode(), "a": attempt}
    return member, stamped(job)  # what queued it, for its span's link (--traces)


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

    @classmethod
    def of(cls, client_id: str, member: str, webhook: dict[str, Any] | None, body: bytes):
        """The message of a delivery ``member``, to ``webhook`` (None: gone, no address)."""
        event_id, event_type, webhook_id = member_parts(member)
        url, secret = (webhook["url"], webhook["secret"]) if webhook else ("", "")
        return cls(client_id, webhook_id, url, secret, event_id, event_type, body)


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave."""

    status_code: int | None
    error: str | None
    retry_after: float | None = None
    #: The target was outside the policy: nothing was sent, and nothing will be.
    blocked: bool = False
    #: The target can never be reached (a reserved name): given up, ``not_delivered``.
    undeliverable: bool = False
    #: The exact cause of a failure without an answer, for the server's log line only:
    #: the delivery log says the same words for every such failure (no port map).
    cause: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def announce(
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


def dropped_reason(cap: int) -> str:
    """The log's ``error`` for a delivery given up past ``cap`` pending."""
    return (
        f"dropped: the client had {cap} deliveries pending "
        "(quota_pending_deliveries); the oldest of its busiest webhook goes first"
    )


async def give_up(
    store: WebhookStore,
    ids: IdFactory,
    clock: Callable[[], float],
    message: Message,
    attempt: int,
    why: str,
) -> None:
    """Log a delivery given up before ``attempt`` (a line, and an entry if the webhook is there)."""
    announce(message, attempt, "not_delivered", error=why)
    at = iso(clock())
    record = entry(ids.new("dlv"), message, attempt, "not_delivered", None, None, at, None, why)
    await store.note(message.client_id, message.webhook_id, record)
