"""The handle's journal and clock helpers against the sandbox's own endpoints, both engines.

``journal`` is ``GET /_sandbox/requests``; ``clock`` is ``/_sandbox/clock``. What a
test of an app does with them: see what the app sent, make time pass.
"""

from __future__ import annotations

import pytest

from pin_mock.testing import Sandbox, sandbox
from redis_db import fresh_db


@pytest.fixture(params=["memory", "redis"])
def started(request: pytest.FixtureRequest):
    state = "memory://" if request.param == "memory" else fresh_db().url
    with sandbox(state=state, report_delay=0.0) as sb:
        yield sb


def test_the_journal_shows_what_the_client_sent(started: Sandbox) -> None:
    assert started.client.get("/v1/patients/patient_nobody").status_code == 404
    entries = started.journal(status="404")
    assert any(e["path"] == "/v1/patients/patient_nobody" for e in entries), entries
    # A verification count, as WireMock's ``verify`` gives it: what matched, ``limit`` aside.
    assert started.count(operation="getPatient", status="404") == 1
    assert started.client.get("/v1/patients/patient_123").status_code == 200
    assert started.count(operation="getPatient") == 2
    assert started.count(operation="createPatient") == 0
    # Another client's journal holds none of it.
    other = started.client_for("sandbox-standard")
    theirs = other.get("/_sandbox/requests").json()["data"]
    assert not any(e.get("path") == "/v1/patients/patient_nobody" for e in theirs)


def test_the_clock_moves_and_a_reset_puts_it_back(started: Sandbox) -> None:
    frozen = started.clock.freeze()
    moved = started.clock.advance(3600)
    assert moved["frozen"] and moved["now"] > frozen["now"]
    assert started.clock.now()["now"] == moved["now"]  # frozen where the advance left it
    started.reset()
    back = started.clock.now()
    assert not back["frozen"] and abs(back["offset_seconds"]) < 60
