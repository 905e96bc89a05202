"""The state ports: everything the sandbox asks of the engine that keeps what clients change.

Two engines implement every port, side by side: ``state/memory/`` (this process,
the default) and ``state/redis/`` (shared by every worker and replica).
``state/engine.py`` builds one from ``--state``; nothing outside ``state/`` knows
which one it has. A feature that needs state adds a method to a port here and
implements it in both engines.

The contract every engine keeps:

- every write is all-or-nothing, and a quota is checked in the same atomic step
  as its write (so concurrent creates, on however many workers, cannot pass the
  last slot): no ``await`` between check and write in memory, one Lua script on
  Redis;
- a create that announces an event takes the event's deliveries along
  (``EventDeliveries``): both are stored, or neither;
- what belongs to one client is dropped by ``TenantState.reset`` in one step:
  created data, reports and files, webhooks and delivery logs, pending
  deliveries and their scheduled retries;
- a job is run once by whichever worker takes it (at least once on Redis, where
  each handler guards its effects with a compare-and-set: ``advance``, ``record``).

Jobs are small JSON objects (``Job``) that always name their ``client_id``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pin_mock.server.state.counters_port import Counters

Patient = dict[str, Any]
Entry = dict[str, Any]
#: A job on a queue: a JSON object with at least ``client_id``.
Job = dict[str, Any]
#: What a queue runs for each job it takes.
Handler = Callable[[Job], Awaitable[None]]

#: ``add_entry`` outcomes besides a non-negative "stored" count.
QUOTA_FULL = "quota"
NO_PATIENT = "no-patient"

#: A webhook's delivery log keeps its newest entries, at most this many.
MAX_LOG = 1_000

#: Why a delivery was given up when its event was queued (``EventDeliveries.given_up``).
DROPPED = "dropped"  # past ``quota_pending_deliveries``: the oldest of the busiest webhook
SHUTTING_DOWN = "shutting-down"  # the queue has stopped (memory: nobody will run it)


class QueueClosed(Exception):
    """A queue that has stopped, and that nobody else will take jobs from (memory)."""


def delivery_member(event_id: str, event_type: str, webhook_id: str) -> str:
    """The name of one event's delivery to one webhook: ``{event}|{type}|{webhook}``."""
    return f"{event_id}|{event_type}|{webhook_id}"


def member_parts(member: str) -> tuple[str, str, str]:
    """``(event_id, event_type, webhook_id)`` of a ``delivery_member``."""
    event_id, event_type, webhook_id = member.split("|")
    return event_id, event_type, webhook_id


@dataclass(frozen=True)
class TenantData:
    """Everything one client created, for derived views (analytics); treat as read-only."""

    version: int
    #: Created patients by id, in creation order.
    patients: Mapping[str, Patient]
    #: Created entries by patient id (seeded or created patients), in creation order.
    entries: Mapping[str, list[Entry]]


@dataclass(frozen=True)
class WriteResult:
    """A create's outcome: ``stored``, or refused with ``reason`` and what the tenant holds."""

    stored: bool
    used: int
    reason: str = ""


@dataclass(frozen=True)
class GivenUp:
    """A pending delivery given up when an event was queued: why, and the attempt it was at."""

    member: str
    attempt: int
    reason: str = DROPPED


@dataclass
class EventDeliveries:
    """An event's deliveries to queue, one ``(member, job)`` per subscribed webhook.

    Queued with the create it announces (``add_patient``, ``add_entry``: both or
    neither) or on its own (``WebhookStore.enqueue``). Each is counted pending for
    the client; past ``cap`` the oldest pending delivery of the client's webhook
    with the most pending is given up (with ``cap`` 0, the new one). A member
    already pending is not queued again. ``given_up`` is filled once it ran.
    """

    client_id: str
    jobs: list[tuple[str, Job]]
    cap: int
    given_up: list[GivenUp] = field(default_factory=list)
    #: An event type whose webhooks were not read: no jobs, and ``state.unread.Subscribed``.
    unread: str = ""


class TenantState(Protocol):
    """What clients created: patients, entries, their search index and counters."""

    async def page(self, client_id: str, start: int, count: int) -> tuple[list[Patient], int]:
        """Created patients ``[start:start+count]`` in creation order, and how many exist."""
        ...

    async def search(
        self, client_id: str, term: str, start: int, count: int
    ) -> tuple[list[Patient], int]:
        """Created patients whose search key holds ``term``: ``[start:start+count]``, total."""
        ...

    async def get_patient(self, client_id: str, patient_id: str) -> Patient | None:
        """A created patient, or None."""
        ...

    async def patient_and_entries(
        self, client_id: str, patient_id: str, *, seeded: bool
    ) -> tuple[Patient | None, list[Entry]]:
        """The created patient (None if ``seeded`` or unknown) and its created entries."""
        ...

    async def add_patient(
        self,
        client_id: str,
        patient: Patient,
        search_key: str,
        cap: int,
        then: EventDeliveries | None = None,
    ) -> WriteResult:
        """Store ``patient`` unless the tenant already holds ``cap`` patients (and ``then``)."""
        ...

    async def add_entry(
        self,
        client_id: str,
        entry: Entry,
        cap: int,
        *,
        seeded_patient: bool,
        then: EventDeliveries | None = None,
    ) -> WriteResult:
        """Store ``entry`` unless ``cap`` entries are held or its patient is gone (``then``).

        The same entry again right after it (a create Redis ran, whose answer a broken
        connection lost, retried) is acknowledged and not stored twice."""
        ...

    async def version(self, client_id: str) -> int:
        """A number every write of the tenant changes (derived views are cached on it)."""
        ...

    async def data(self, client_id: str) -> TenantData:
        """Everything the tenant created (analytics)."""
        ...

    async def usage(self, client_id: str) -> dict[str, int]:
        """``{"patients": n, "entries": n}`` held now."""
        ...

    async def reset(self, client_id: str) -> dict[str, int]:
        """Drop everything of the client in one step (see the module); what it held:
        ``patients``, ``clinical_data``, ``reports``, ``webhooks``."""
        ...

    async def expire_idle(self) -> list[str]:
        """Drop the sandboxes idle for longer than ``--sandbox-ttl``; their client ids.

        Redis only keeps sandboxes across restarts, so only Redis expires them; in
        memory a sandbox lives as long as its process, and this drops none.
        """
        ...


class ReportStore(Protocol):
    """Reports: their views (what the API shows) and, once completed, their files."""

    async def add(self, client_id: str, view: dict[str, Any], cap: int, job: Job) -> int | None:
        """Store ``view`` and queue ``job`` on the report queue, unless the client holds
        ``cap`` reports: then nothing is written and the answer is how many it holds."""
        ...

    async def get(self, client_id: str, report_id: str) -> dict[str, Any] | None: ...

    async def all(self, client_id: str) -> list[dict[str, Any]]: ...  # oldest first

    async def file(self, client_id: str, report_id: str) -> bytes | None: ...

    async def advance(
        self,
        client_id: str,
        view: dict[str, Any],
        allowed: tuple[str, ...],
        changes: dict[str, Any],
        content: bytes | None = None,
    ) -> bool:
        """Apply ``changes`` (and store ``content``) if the status is still in ``allowed``:
        a compare-and-set, so a job run twice completes its report once."""
        ...


class WebhookStore(Protocol):
    """Webhooks, their delivery logs, and the deliveries pending for each client."""

    async def create(self, client_id: str, webhook: dict[str, Any], cap: int) -> int | None:
        """Store ``webhook`` unless the client holds ``cap``; else how many it holds."""
        ...

    async def get(self, client_id: str, webhook_id: str) -> dict[str, Any] | None: ...

    async def all(self, client_id: str) -> list[dict[str, Any]]: ...  # with secrets; oldest first

    async def delete(self, client_id: str, webhook_id: str) -> bool:
        """Remove the webhook and its log; its pending deliveries end at their next turn."""
        ...

    async def log(self, client_id: str, webhook_id: str) -> list[dict[str, Any]]:
        """The webhook's delivery log, oldest first (the newest ``MAX_LOG`` entries)."""
        ...

    async def enqueue(self, deliveries: EventDeliveries) -> None:
        """Queue an event's deliveries on their own (no create to ride on)."""
        ...

    async def due_and_webhook(
        self, client_id: str, member: str, webhook_id: str
    ) -> tuple[int | None, dict[str, Any] | None]:
        """The attempt ``member`` is due for (None: no longer pending) and its webhook."""
        ...

    async def pending(self, client_id: str) -> int: ...  # deliveries the client has pending

    async def release(self, client_id: str, member: str) -> None:
        """``member`` is no longer pending (its webhook was removed)."""
        ...

    async def record(
        self,
        client_id: str,
        webhook_id: str,
        member: str,
        attempt: int,
        entry: dict[str, Any],
        *,
        retry: tuple[float, Job] | None,
    ) -> bool:
        """Log ``attempt`` of ``member`` once (True if this call did): a compare-and-set on
        the attempt due. ``retry`` is ``(seconds, job)``: the next attempt, scheduled on
        the delivery queue in the same step; None when this attempt was the last."""
        ...

    async def note(self, client_id: str, webhook_id: str, entry: dict[str, Any]) -> None:
        """Append ``entry`` (a delivery given up) to the log, if the webhook still exists."""
        ...


@dataclass(frozen=True)
class Leftovers:
    """What a stopped queue (or its slots) leaves: jobs nobody else will run, and how
    many jobs under way were handed back for another worker."""

    abandoned: list[Job] = field(default_factory=list)
    handed_back: int = 0


class Slots(Protocol):
    """Fair shares of a queue's jobs: a slot of the job's group and one of its client.

    A job that finds either taken is *parked* (its handler ends) and put back on the
    queue when a slot of its group or client is released, so one client's burst
    (or dead receivers) waits behind itself, never in front of another client.
    """

    async def acquire(self, client_id: str, group: str, token: str, job: Job) -> bool:
        """Hold a slot of ``group`` and of the client under ``token``; else park ``job``."""
        ...

    async def release(self, client_id: str, group: str, token: str) -> None:
        """Give the slots back; one parked job of the group and one of the client wake."""
        ...

    async def sweep(self) -> int:
        """Wake the parked jobs that free slots allow (leases that ran out); how many."""
        ...

    async def parked(self) -> bool:
        """Whether any job is parked."""
        ...

    async def aclose(self) -> Leftovers:
        """Stop; the parked jobs nobody else will run."""
        ...


class JobQueue(Protocol):
    """A queue of jobs of one kind (report generation, webhook deliveries)."""

    async def put(self, job: Job, delay: float = 0.0) -> None:
        """Queue ``job`` to run now, or ``delay`` seconds from now."""
        ...

    async def start(self, handler: Handler, *, concurrency: int) -> None:
        """Run ``handler`` for each job taken, at most ``concurrency`` at once here."""
        ...

    async def aclose(self, grace: float = 0.0) -> Leftovers:
        """Stop taking jobs; jobs under way get ``grace`` seconds, then are cancelled."""
        ...

    async def drain(self) -> None:
        """Wait until no job is queued, scheduled or running (for tests and tools)."""
        ...

    def fair_slots(self, *, lease: float, group_slots: int, client_slots: int) -> Slots:
        """Slots over this queue's jobs; a slot is held at most ``lease`` seconds."""
        ...


class SigningKeys(Protocol):
    """Where the tokens' signing keys are kept, by ``kid`` (blocking calls: rare)."""

    def get(self, kid: str) -> str | None: ...

    def create(self, kid: str, secret: str) -> str:
        """Keep ``secret`` as ``kid`` unless another worker made it first; the one kept."""
        ...

    def kids(self) -> list[str]: ...

    def delete(self, kids: list[str]) -> None: ...


class IdSpace(Protocol):
    """What makes created ids unique: the permutation's key and counter incarnations."""

    def key(self) -> bytes:
        """The key of the id permutation (the same for every process of the engine)."""
        ...

    def incarnation(self) -> int | None:
        """A number no other process or restart ever took (for the counter's upper bits);
        None when this process is the only one (the whole counter is its own)."""
        ...


class StateEngine(Protocol):
    """One engine: every port, built together (``state/engine.py``)."""

    url: str
    tenants: TenantState
    reports: ReportStore
    webhooks: WebhookStore
    #: The queue ``ReportStore.add`` puts report jobs on.
    report_jobs: JobQueue
    #: The queue ``EventDeliveries`` and ``WebhookStore.record``'s retries go to.
    deliveries: JobQueue
    keys: SigningKeys
    ids: IdSpace

    def counters(self, name: str) -> Counters:
        """The counters named ``name`` (``limits``, ``throttle``)."""
        ...

    async def aclose(self) -> None:
        """Close the engine's connections (the app's lifespan, last)."""
        ...
