"""The documentation cannot drift from behaviour: every documented example is replayed.

Each example of an answer in the spec names its request (``x-request``); it
is sent to a sandbox with default settings and the answer must equal the
example, except what legitimately varies (``examples_replay.normalised``).
Examples that cannot be replayed say why (``x-replay: false``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from examples_replay import (
    CAPTURED_AT,
    DEFAULT_CLIENT,
    Replay,
    Replayer,
    event_stream_normalised,
    normalised,
    replays,
    spec,
)
from starlette.testclient import TestClient

from pin_mock.server import Settings, create_app
from pin_mock.server.wiring import build_services

DOCUMENT = spec()
ALL = replays(DOCUMENT)
REPLAYED = [r for r in ALL if r.request is not None]
#: Long enough that tokens signed on a clock set back to CAPTURED_AT still verify.
LONG_TTL = 20 * 365 * 86400


@pytest.fixture(scope="module")
def replayer_for() -> Iterator[Callable[[dict], Replayer]]:
    """A replayer per sandbox clock (None: the real clock) and settings, built on first use."""
    opened: dict[tuple, tuple[TestClient, Replayer]] = {}

    def get(request: dict) -> Replayer:
        clock, changed = request.get("clock"), request.get("settings") or {}
        key = (clock, tuple(sorted(changed.items())))
        if key not in opened:
            overrides: dict = dict(changed)
            tick: Callable[[], float] = time.time
            if clock is not None:
                start, zero = datetime.fromisoformat(clock).timestamp(), time.monotonic()
                overrides["token_ttl"] = LONG_TTL

                def tick() -> float:
                    return start + time.monotonic() - zero

            # Reports are generated at once unless an example needs one to stay pending.
            settings = Settings(**{"report_delay": 0.0, **overrides})
            services = build_services(settings, clock=tick)
            client = TestClient(create_app(settings, services=services))
            client.__enter__()
            opened[key] = (client, Replayer(client, DOCUMENT))
        return opened[key][1]

    yield get
    for client, _ in opened.values():
        client.__exit__(None, None, None)


def test_there_are_examples_to_replay() -> None:
    assert len(REPLAYED) >= 100, len(REPLAYED)
    assert {r.operation_id for r in REPLAYED} == {
        op["operationId"]
        for item in DOCUMENT["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
    }


@pytest.mark.parametrize("replay", ALL, ids=lambda r: r.label)
def test_every_example_names_its_request_or_why_not(replay: Replay) -> None:
    assert replay.request is not None or (replay.reason and len(replay.reason) > 20), (
        f"{replay.label}: add x-request, or x-replay: false with an x-replay-reason"
    )


def test_every_documented_answer_has_an_example() -> None:
    have = {(r.operation_id, r.status) for r in ALL}
    missing = [
        f"{op['operationId']} {status}"
        for item in DOCUMENT["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for status, response in op["responses"].items()
        if response.get("content") and (op["operationId"], int(status)) not in have
    ]
    assert not missing, f"answers without a named example: {missing}"


@pytest.mark.parametrize("replay", REPLAYED, ids=lambda r: r.label)
def test_documented_example_is_what_the_sandbox_answers(
    replay: Replay, replayer_for: Callable[[dict], Replayer]
) -> None:
    replayer = replayer_for(replay.request)
    replayer.http.post(
        "/_sandbox/reset",
        headers={"Authorization": f"Bearer {replayer.token(DEFAULT_CLIENT)}"},
    )
    answer = replayer.send(replay)
    assert answer.status_code == replay.status, answer.text
    media_type = answer.headers.get("content-type", "").split(";")[0]
    assert media_type == replay.media_type
    if media_type == "application/json":
        assert normalised(answer.json()) == normalised(replay.value)
    elif media_type == "text/event-stream":
        assert event_stream_normalised(answer.text) == event_stream_normalised(replay.value)
    else:
        # CSV lines end in CRLF (RFC 4180); a YAML block shows them as line feeds.
        assert normalised(answer.text.replace("\r\n", "\n")) == normalised(replay.value)


def test_volatile_values_are_compared_by_shape_only() -> None:
    created = {"id": "rpt_9c4e1f7a2b3d", "created_at": "2026-11-28T04:00:00Z"}
    documented = {"id": "rpt_84f399477053", "created_at": CAPTURED_AT}
    assert normalised(created) == normalised(documented)
    seeded = {"id": "cd_000007b00001", "recorded_at": "2024-10-16T10:15:00Z"}
    assert normalised(seeded) == seeded  # seeded ids and times are compared exactly
    assert normalised({"id": "rpt_9c4e1f7a2b3d"}) != normalised({"id": "wh_9c4e1f7a2b3d"})
