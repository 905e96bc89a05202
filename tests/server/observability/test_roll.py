"""``/readyz``'s ``processes`` check: a server of N workers is ready when all N serve.

The roll (``observability/roll.py``) is a directory of process ids; these tests
put real processes on it (this one, a running child, a dead one, a zombie) and
read the check as ``/readyz`` reports it. The whole server, with a worker
killed, is in ``tests/multiprocess/test_mp_observability.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pin_mock.server.observability.readiness import OK, Readiness
from pin_mock.server.observability.roll import ROLL_ENV, ProcessRoll


class _Writable:
    async def check(self) -> None:
        return None

    async def depths(self) -> dict[tuple[str, str], int]:
        return {}


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not this one (another worker)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def _checks(readiness: Readiness) -> dict[str, str]:
    return asyncio.run(readiness.checks())


def test_ready_only_when_every_expected_process_has_joined(
    tmp_path: Path, child: subprocess.Popen[bytes]
) -> None:
    readiness = Readiness(_Writable(), roll=ProcessRoll(tmp_path, 2))
    readiness.seeded = True
    readiness.begin()  # this process: 1 of 2
    assert (tmp_path / str(os.getpid())).exists()
    assert _checks(readiness)["processes"] == "1 of 2 worker processes have started"
    (tmp_path / str(child.pid)).touch()  # the other worker's lifespan started
    assert _checks(readiness) == {"state": OK, "workers": OK, "seed": OK, "processes": OK}
    readiness.end()  # this one stops: not ready, and off the roll
    assert not (tmp_path / str(os.getpid())).exists()
    checks = _checks(readiness)
    assert checks["processes"] == "1 of 2 worker processes have started"
    assert checks["workers"] != OK


def test_a_killed_process_does_not_count_and_leaves_the_roll(tmp_path: Path) -> None:
    roll = ProcessRoll(tmp_path, 2)
    roll.join()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # exited and reaped: its id names no process
    (tmp_path / str(gone.pid)).touch()
    assert roll.missing() == 1
    assert not (tmp_path / str(gone.pid)).exists()


def test_a_killed_process_not_yet_reaped_does_not_count(tmp_path: Path) -> None:
    roll = ProcessRoll(tmp_path, 2)
    roll.join()
    zombie = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    (tmp_path / str(zombie.pid)).touch()
    assert roll.missing() == 0
    os.kill(zombie.pid, signal.SIGKILL)
    try:
        # Not reaped: os.kill(pid, 0) still succeeds on it, /proc says Z.
        for _ in range(200):
            if roll.missing() == 1:
                break
            asyncio.run(asyncio.sleep(0.01))
        assert roll.missing() == 1
    finally:
        zombie.wait()


def test_a_single_process_has_no_roll_and_the_run_directory_is_the_roll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ROLL_ENV, str(tmp_path))
    assert ProcessRoll.from_environment(1).missing() == 0  # one process: always complete
    two = ProcessRoll.from_environment(2)
    assert two.directory == tmp_path and two.missing() == 2
    monkeypatch.delenv(ROLL_ENV)
    assert ProcessRoll.from_environment(2).missing() == 0  # built in a test: no supervisor
    assert ProcessRoll(tmp_path / "gone", 2).missing() == 2  # the run is over
