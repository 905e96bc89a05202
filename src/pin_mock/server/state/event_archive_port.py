"""The ``EventArchive`` port: the bodies of a client's recent events, for a resend.

A delivery log entry names its event (``event_id``) but not its body; a resend
(``POST /_sandbox/events/{event_id}/resend``) must send the very same bytes
under the same ``webhook-id``, as Standard Webhooks receivers de-duplicate on
it. So every event announced is kept here by id, the newest ``MAX_EVENTS`` per
client (bounded memory per client on both engines), and a reset drops them with
the rest of the client's sandbox (memory: the tenant; Redis: keys named in the
tenant's ``keys`` set). Implemented by ``memory/event_archive.py`` and
``redis/event_archive.py``; every engine has one as ``archive`` (beside the
ports of ``ports.py``: ``ArchivingEngine``).
"""

from __future__ import annotations

from typing import Protocol

from pin_mock.server.state.ports import StateEngine

#: Events kept per client, newest last; an older one cannot be resent (404).
MAX_EVENTS = 1_000


class EventArchive(Protocol):
    """The newest ``MAX_EVENTS`` event bodies of each client, by event id."""

    async def keep(self, client_id: str, event_id: str, body: bytes) -> None:
        """Keep ``body`` as ``event_id``; the client's oldest beyond ``MAX_EVENTS`` go."""
        ...

    async def get(self, client_id: str, event_id: str) -> bytes | None:
        """The body of ``event_id`` if the client's archive still holds it."""
        ...


class ArchivingEngine(StateEngine, Protocol):
    """A state engine with its event archive."""

    archive: EventArchive
