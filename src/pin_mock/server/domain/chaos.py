"""Chaos: a client's own setting that makes some of its requests misbehave.

``PUT /_sandbox/chaos`` stores a ``ChaosSetting`` for the calling client: a
``probability``, the ``faults`` to choose from (``FAULTS``), an optional
``delay`` distribution (applied to every request it covers), the
``operations`` it covers (operationIds of ``/v1``; all of them when absent) and
a ``seed``. Chaos covers only ``/v1``: never ``/oauth/token`` (its client is
known only once its body is read and its secret checked, so a request naming
another client could move that client's sequence) and never ``/_sandbox``
(the controls, ``/_sandbox/chaos`` itself included, must keep working).

**Reproducible.** The n-th covered request of the client since the setting was
stored (n counted by the state engine, so shared by every worker) gets the
outcome ``decide(setting, n)``: a pure function of the seed and n, through
BLAKE2b. Two runs that send the same requests in the same order see the same
faults and delays, on either engine and with any number of workers. A setting
stored without a seed gets one drawn at random, shown by ``GET`` so that a run
can be replayed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pin_mock.server.domain.delays import Delay, parse_delay
from pin_mock.server.errors import InvalidParameter
from pin_mock.server.state.chaos_port import ChaosSettings

#: Transport faults, as WireMock names them (in snake case), in the order documented.
FAULTS = (
    "connection_reset",  # the connection reset (RST), no answer: CONNECTION_RESET_BY_PEER
    "empty_response",  # the connection closed (FIN) without an answer: EMPTY_RESPONSE
    "malformed_json",  # the answer's status and headers, a body that is not JSON
    "truncated_json",  # the answer's Content-Length, half its body, then the connection closes
    "slow_body",  # the whole answer, its body dribbled in chunks over slow_body_ms
    "headers_then_silence",  # the status and headers, then nothing until the connection closes
    "random_data_then_close",  # bytes that are no HTTP, then the connection closes: WireMock's
)
#: Faults decided before the operation runs: nothing is stored, nothing emitted.
BEFORE_OPERATION = frozenset({"connection_reset", "empty_response", "random_data_then_close"})
#: The largest seed: a JSON number every client reads exactly (2^53 - 1).
MAX_SEED = 2**53 - 1
MAX_OPERATIONS = 200


@dataclass(frozen=True)
class Outcome:
    """What one request gets: a fault (or none) and a delay before anything else."""

    fault: str | None
    delay_ms: int = 0
    slow_body_ms: int = 2_000  # a slow_body's whole dribble
    silence_ms: int | None = None  # a headers_then_silence's silence (None: the most allowed)
    number: int = 0  # the request's number in the chaos sequence (0: asked by Prefer)


@dataclass(frozen=True)
class ChaosSetting:
    """One client's chaos, as stored (``as_dict``) and as decided on."""

    probability: float
    faults: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()  # empty: every /v1 operation
    delay: Delay | None = None
    seed: int = 0
    slow_body_ms: int = 2_000
    silence_ms: int | None = None  # None: until the server's send timeout

    def covers(self, operation_id: str) -> bool:
        return not self.operations or operation_id in self.operations

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "probability": self.probability,
            "faults": list(self.faults),
            "operations": list(self.operations),
            "seed": self.seed,
            "slow_body_ms": self.slow_body_ms,
        }
        if self.delay is not None:
            out["delay"] = self.delay.as_dict()
        if self.silence_ms is not None:
            out["silence_ms"] = self.silence_ms
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ChaosSetting:
        """A stored setting back (trusted: it was validated when it was put)."""
        delay = raw.get("delay")
        return cls(
            probability=float(raw["probability"]),
            faults=tuple(raw.get("faults", ())),
            operations=tuple(raw.get("operations", ())),
            delay=Delay(**delay) if delay else None,
            seed=int(raw.get("seed", 0)),
            slow_body_ms=int(raw.get("slow_body_ms", 2_000)),
            silence_ms=raw.get("silence_ms"),
        )


def unit(seed: int, n: int, purpose: str) -> float:
    """A number in [0, 1) that depends only on ``seed``, ``n`` and ``purpose``."""
    digest = hashlib.blake2b(f"{seed}:{n}:{purpose}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def decide(setting: ChaosSetting, n: int) -> Outcome:
    """The outcome of the client's ``n``-th covered request (a pure function)."""
    delay = setting.delay.sample(unit(setting.seed, n, "delay")) if setting.delay else 0
    fault = None
    if setting.faults and unit(setting.seed, n, "fault?") < setting.probability:
        pick = int(unit(setting.seed, n, "which") * len(setting.faults))
        fault = setting.faults[pick]
    return Outcome(fault, delay, setting.slow_body_ms, setting.silence_ms, n)


def parse_setting(
    body: Mapping[str, Any], *, operations: Collection[str], max_delay_ms: int
) -> ChaosSetting:
    """A ``ChaosSetting`` from a ``PUT /_sandbox/chaos`` body, every field bounded.

    The schema has checked the types and plain bounds; this checks what it
    cannot say: operationIds that exist and are covered (``/v1``), a delay's
    fields, and that the setting does something.
    """
    unknown = [op for op in body.get("operations", ()) if op not in operations]
    if unknown:
        raise InvalidParameter(
            "operations",
            unknown[0],
            f"{unknown[0]!r} is not an operationId chaos can cover: only /v1 operations "
            "(never /oauth/token or /_sandbox).",
        )
    faults = tuple(body.get("faults", ()))
    if len(set(faults)) != len(faults):
        raise InvalidParameter("faults", list(faults), "Each fault may be listed once.")
    delay = parse_delay(body["delay"], max_delay_ms, "delay") if "delay" in body else None
    if not faults and delay is None:
        raise InvalidParameter(
            "faults", [], "A chaos setting needs faults to choose from, a delay, or both."
        )
    seed = body.get("seed")
    for name in ("slow_body_ms", "silence_ms"):
        value = body.get(name)
        if value is not None and not 0 <= value <= max_delay_ms:
            raise InvalidParameter(
                name, value, f"{name} must be from 0 to {max_delay_ms} milliseconds."
            )
    return ChaosSetting(
        probability=float(body["probability"]),
        faults=faults,
        operations=tuple(dict.fromkeys(body.get("operations", ()))),
        delay=delay,
        seed=secrets.randbelow(MAX_SEED) if seed is None else int(seed),
        slow_body_ms=int(body.get("slow_body_ms", 2_000)),
        silence_ms=body.get("silence_ms"),
    )


class Chaos:
    """Chaos over the state engine's ``ChaosSettings`` port, for the API and the pipeline."""

    def __init__(self, settings: ChaosSettings) -> None:
        self._settings = settings
        #: The operationIds chaos may cover (``/v1``), from the spec (``cover``).
        self.operations: frozenset[str] = frozenset()

    def cover(self, operation_ids: Iterable[str]) -> None:
        """Name the operations chaos may cover (the app factory, from the spec it serves)."""
        self.operations = frozenset(operation_ids)

    def surely_off(self, client_id: str) -> bool:
        """True when the client surely has no chaos (no waiting: asked on every request)."""
        return self._settings.surely_off(client_id)

    async def outcome(self, client_id: str, operation_id: str) -> Outcome | None:
        """What the client's request to ``operation_id`` gets; None without chaos.

        Cheap when the client has no chaos: the port answers from memory
        (``ChaosSettings.current``); only a covered request counts a number.
        """
        stored = await self._settings.current(client_id)
        if stored is None:
            return None
        setting = ChaosSetting.from_dict(stored.setting)
        if not setting.covers(operation_id):
            return None
        n = await self._settings.draw(client_id, stored.version)
        return None if n is None else decide(setting, n)

    async def show(self, client_id: str) -> dict[str, Any]:
        """``GET /_sandbox/chaos``: the client's setting, or that it has none."""
        stored = await self._settings.current(client_id, fresh=True)
        if stored is None:
            return {"client_id": client_id, "enabled": False}
        return {
            "client_id": client_id,
            "enabled": True,
            **stored.setting,
            "requests_seen": stored.requests,
        }

    async def put(self, client_id: str, setting: ChaosSetting) -> dict[str, Any]:
        """``PUT``: replace the client's setting; its count starts again from 0."""
        await self._settings.replace(client_id, setting.as_dict())
        return {"client_id": client_id, "enabled": True, **setting.as_dict(), "requests_seen": 0}

    async def stop(self, client_id: str) -> dict[str, Any]:
        """``DELETE``: no more chaos for the client (its other state untouched)."""
        await self._settings.replace(client_id, None)
        return {"client_id": client_id, "enabled": False}
