"""``redis://``: what clients created, in Redis, shared by every worker and replica.

The key layout and the scripts are in ``tenant_scripts.py``. Nothing of a
tenant is kept in this process (a worker's memory does not grow with what
clients create); derived views are cached by ``Store`` on the tenant's version.

Idle sandboxes expire: every write (and a read, at most once a minute per
tenant and process) records the tenant's last activity in ``pin:tenants``;
``expire_idle`` drops tenants idle for longer than ``--sandbox-ttl``, with the
same script as ``POST /_sandbox/reset``. Other parts that keep per-tenant keys
name them ``tenant_key(client_id, ...)`` and either use a name in
``FIXED_KEYS`` or add the key to the tenant's ``keys`` set in the same write,
so a reset or an expiry removes them too; the reset also takes the tenant's
scheduled delivery retries off the shared retry set (``webhooks.py``).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from pin_mock.server.encoding import encode
from pin_mock.server.state.ports import (
    NO_PATIENT,
    QUOTA_FULL,
    Entry,
    EventDeliveries,
    Patient,
    TenantData,
    WriteResult,
)
from pin_mock.server.state.redis import tenant_scripts as lua
from pin_mock.server.state.redis.clocks import KEYS as CLOCK_KEYS
from pin_mock.server.state.redis.trips import Trips
from pin_mock.server.state.unread import Subscribed

if TYPE_CHECKING:
    from pin_mock.server.state.redis.keyspace import Keyspace
    from pin_mock.server.state.redis.webhooks import RedisWebhooks

#: Per-tenant keys with fixed names, removed by a reset besides the ``keys`` set's members
#: (reports and webhooks: the reset counts them, whatever their Redis type).
FIXED_KEYS = ["order", "m", "reports", "webhooks", "p", "lines", "ep", "deliveries"]
FIXED_KEYS += CLOCK_KEYS  # the client's clock and the jobs waiting for it (``clocks.py``)
#: Besides ``FIXED_KEYS``: the tenant's scheduled retries, each cancelled by the reset.
RETRIES = "retries"
#: What separates the search lines (``tenant_scripts.SEARCH``); never in a term.
_SEPARATORS = ("\0", "\1")
#: A read refreshes its tenant's last activity at most this often (seconds).
TOUCH_EVERY = 60.0
_TOUCHED_MAX = 10_000
#: Offsets are clamped here: Lua numbers are doubles, and no tenant holds more rows.
_MAX_ROW = 1 << 31
#: Searches (client, term) whose scan this worker remembers, and the ids of each one's
#: first matches it keeps (pages up to there need no scan of what it has seen).
SEARCHES_KEPT = 256
SEARCH_IDS_KEPT = 200


@dataclass(frozen=True)
class _Scan:
    """What this worker knows of one search: ``T lines`` of generation ``born`` scanned up
    to byte ``scanned``, ``seen`` matches in it, the ids of the first ones."""

    born: bytes
    scanned: int
    seen: int
    ids: list[bytes]


def _bytes(text: str) -> bytes:
    # Validated text is UTF-8, but never let an odd code point turn a write into a 500.
    return text.encode("utf-8", "surrogatepass")


def _line(search_key: str, patient_id: str) -> bytes:
    """The patient's line in ``T lines``: its search key, ``\\1``, its id, ``\\0``."""
    for sep in _SEPARATORS:
        search_key = search_key.replace(sep, " ")
    return _bytes(f"{search_key}\1{patient_id}\0")


def _load(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:  # what only the standard library wrote (encode's fallback)
        return json.loads(raw)


class RedisTenants:
    """``TenantState`` on Redis: Lua scripts for writes, one round trip per read."""

    def __init__(self, keyspace: Keyspace, webhooks: RedisWebhooks, *, ttl: int) -> None:
        self.keyspace = keyspace
        self.redis = keyspace.redis
        self.webhooks = webhooks
        self.ttl = ttl
        self.clock = keyspace.clock
        self._tenants = keyspace.key("tenants")
        self._version = keyspace.key("version")
        self._touched: dict[str, float] = {}
        self._scans: OrderedDict[tuple[str, str], _Scan] = OrderedDict()
        # The hot calls carry the request's rate-limit count (trips.py): one trip each.
        self.trips = keyspace.trips or Trips(self.redis)
        self._reset = self.redis.register_script(lua.RESET)
        self._composed: dict[tuple[str, str], str] = {}  # (create, then) -> one script

    async def _write(
        self, source: str, keys: list[str], args: list[Any], then: EventDeliveries | None
    ):
        """Run the create script ``source``; with ``then`` (its event's deliveries), both in
        one atomic script: a create and its queued event are stored together or not at all."""
        if then is None:
            return await self.trips.script(source, keys, args)
        if then.unread:  # no webhook was read: store only if none subscribes (state/unread.py)
            guarded = self._composed.get((lua.UNSUBSCRIBED, source))
            if guarded is None:
                guarded = lua.then(lua.UNSUBSCRIBED, source)
                self._composed[(lua.UNSUBSCRIBED, source)] = guarded
            hooks = self.webhooks.hooks.items_key(then.client_id)
            free, done = await self.trips.script(
                guarded, [hooks, *keys], [1, 1, then.unread, *args]
            )
            if int(free[0]) != 1:
                raise Subscribed(then.unread)
            return done
        second, then_keys, then_args = self.webhooks.enqueue_script(then)
        both = self._composed.get((source, second))
        if both is None:
            both = self._composed[(source, second)] = lua.then(source, second)
        done, answer = await self.trips.script(
            both, [*keys, *then_keys], [len(keys), len(args), *args, *then_args]
        )
        self.webhooks.given_up(then, answer or [])
        return done

    def _key(self, client_id: str, *parts: str) -> str:
        return self.keyspace.tenant_key(client_id, *parts)

    async def _touch(self, client_id: str) -> None:
        """Record a read as activity, at most once per ``TOUCH_EVERY`` per tenant."""
        now = self.clock()
        if now - self._touched.get(client_id, 0.0) < TOUCH_EVERY:
            return
        if len(self._touched) >= _TOUCHED_MAX:
            self._touched.clear()
        self._touched[client_id] = now
        # XX: a read does not bring an expired (or never written) tenant back to life.
        await self.redis.zadd(self._tenants, {client_id: now}, xx=True)

    # -- reads -----------------------------------------------------------------

    async def page(self, client_id: str, start: int, count: int) -> tuple[list[Patient], int]:
        await self._touch(client_id)
        out = await self.trips.script(
            lua.PAGE,
            [self._key(client_id, "order"), self._key(client_id, "p")],
            [min(start, _MAX_ROW), max(0, count)],
        )
        return [_load(raw) for raw in out[1:] if raw], int(out[0])

    async def search(
        self, client_id: str, term: str, start: int, count: int
    ) -> tuple[list[Patient], int]:
        await self._touch(client_id)
        if any(sep in term for sep in _SEPARATORS):
            return [], 0  # no search key holds them (they are blanked in ``_line``)
        start, count = min(start, _MAX_ROW), max(0, count)
        slot = (client_id, term)
        known = self._scans.get(slot)
        page_ids: list[bytes] = []
        if known is not None:
            upto = min(start + count, known.seen)
            if upto > len(known.ids):
                known = None  # a page deeper than the ids kept: scan from the start
            else:
                page_ids = known.ids[start:upto]
        born, scanned, seen, have = (
            (known.born, known.scanned, known.seen, len(known.ids)) if known else (b"", 0, 0, 0)
        )
        out = await self.trips.script(
            lua.SEARCH,
            [self._key(client_id, "lines"), self._key(client_id, "p"), self._key(client_id, "m")],
            [_bytes(term), start, count, born, scanned, seen, have, SEARCH_IDS_KEPT, *page_ids],
        )
        now_born, now_scanned, found, n_kept = out[0], int(out[1]), int(out[2]), int(out[3])
        kept, bodies = out[4 : 4 + n_kept], out[4 + n_kept :]
        if known is not None and known.born and now_born == known.born:
            learnt = _Scan(now_born, now_scanned, seen + found, [*known.ids, *kept])
        else:  # scanned from the start: a first search, a deep page, another generation
            learnt = _Scan(now_born, now_scanned, found, kept)
        # Each state describes ``lines`` up to its byte: keep the one that has seen most.
        held = self._scans.get(slot)
        if held is None or held.born != learnt.born or held.scanned <= learnt.scanned:
            self._scans[slot] = learnt
            self._scans.move_to_end(slot)
            while len(self._scans) > SEARCHES_KEPT:
                self._scans.popitem(last=False)
        return [_load(raw) for raw in bodies if raw], learnt.seen

    async def get_patient(self, client_id: str, patient_id: str) -> Patient | None:
        await self._touch(client_id)
        raw = await self.trips.script(lua.FIELD, [self._key(client_id, "p")], [patient_id])
        return None if raw is None else _load(raw)

    async def patient_and_entries(
        self, client_id: str, patient_id: str, *, seeded: bool
    ) -> tuple[Patient | None, list[Entry]]:
        await self._touch(client_id)
        entries_key = self._key(client_id, "e:" + patient_id)
        if seeded:
            raws = await self.trips.script(lua.ITEMS, [entries_key], [])
            return None, [_load(raw) for raw in raws]
        out = await self.trips.script(
            lua.PATIENT_AND_ENTRIES, [self._key(client_id, "p"), entries_key], [patient_id]
        )
        if not out or out[0] is None:
            return None, []
        return _load(out[0]), [_load(raw) for raw in out[1:]]

    async def version(self, client_id: str) -> int:
        raw = await self.trips.script(lua.FIELD, [self._key(client_id, "m")], ["version"])
        return int(raw or 0)

    async def data(self, client_id: str) -> TenantData:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(self._key(client_id, "m"), "version")
            pipe.lrange(self._key(client_id, "order"), 0, -1)
            pipe.hgetall(self._key(client_id, "p"))
            pipe.smembers(self._key(client_id, "ep"))
            version, order, by_id, touched = await pipe.execute()
        pids = sorted(pid.decode() for pid in touched)
        entries: dict[str, list[Entry]] = {}
        if pids:
            async with self.redis.pipeline(transaction=False) as pipe:
                for pid in pids:
                    pipe.lrange(self._key(client_id, "e:" + pid), 0, -1)
                lists = await pipe.execute()
            entries = {
                pid: [_load(raw) for raw in raws] for pid, raws in zip(pids, lists, strict=True)
            }
        patients = {pid.decode(): _load(by_id[pid]) for pid in order if pid in by_id}
        return TenantData(int(version or 0), patients, entries)

    async def usage(self, client_id: str) -> dict[str, int]:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.llen(self._key(client_id, "order"))
            pipe.hget(self._key(client_id, "m"), "entries")
            patients, entries = await pipe.execute()
        return {"patients": int(patients), "entries": int(entries or 0)}

    # -- writes ------------------------------------------------------------------

    async def add_patient(
        self,
        client_id: str,
        patient: Patient,
        search_key: str,
        cap: int,
        then: EventDeliveries | None = None,
    ) -> WriteResult:
        key = self._key
        stored, held = await self._write(
            lua.ADD_PATIENT,
            [
                key(client_id, "p"),
                key(client_id, "order"),
                key(client_id, "lines"),
                key(client_id, "m"),
                self._tenants,
                self._version,
            ],
            [
                patient["id"],
                encode(patient),
                _line(search_key, patient["id"]),
                cap,
                self.clock(),
                client_id,
            ],
            then,
        )
        if not stored:
            return WriteResult(False, int(held), QUOTA_FULL)
        return WriteResult(True, int(held))

    async def add_entry(
        self,
        client_id: str,
        entry: Entry,
        cap: int,
        *,
        seeded_patient: bool,
        then: EventDeliveries | None = None,
    ) -> WriteResult:
        key = self._key
        pid = entry["patient_id"]
        status, held = await self._write(
            lua.ADD_ENTRY,
            [
                key(client_id, "e:" + pid),
                key(client_id, "m"),
                key(client_id, "ep"),
                key(client_id, "keys"),
                self._tenants,
                self._version,
                key(client_id, "p"),
            ],
            [encode(entry), cap, pid, self.clock(), client_id, "1" if seeded_patient else ""],
            then,
        )
        if status == -1:
            return WriteResult(False, 0, NO_PATIENT)
        if status == 0:
            return WriteResult(False, int(held), QUOTA_FULL)
        return WriteResult(True, int(held))

    async def reset(self, client_id: str) -> dict[str, int]:
        counts = await self._drop(client_id, "")
        assert counts is not None  # unconditional
        return counts

    async def _drop(self, client_id: str, idle_before: str) -> dict[str, int] | None:
        counts = await self._reset(
            keys=[
                self._key(client_id, "keys"),
                self._tenants,
                self._key(client_id, RETRIES),
                self.webhooks.queue.retries,
                *(self._key(client_id, name) for name in FIXED_KEYS),
            ],
            args=[client_id, idle_before],
        )
        self._touched.pop(client_id, None)
        if counts is None:
            return None
        patients, entries, reports, webhooks = (int(n) for n in counts)
        return {
            "patients": patients,
            "clinical_data": entries,
            "reports": reports,
            "webhooks": webhooks,
        }

    # -- expiry --------------------------------------------------------------------

    async def expire_idle(self, batch: int = 100) -> list[str]:
        """Drop the tenants idle for longer than the TTL (up to ``batch``); their ids."""
        cutoff = self.clock() - self.ttl
        stale = await self.redis.zrangebyscore(self._tenants, "-inf", cutoff, start=0, num=batch)
        dropped = []
        for raw in stale:
            client_id = raw.decode()
            if await self._drop(client_id, repr(cutoff)) is not None:
                dropped.append(client_id)
        return dropped
