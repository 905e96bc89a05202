"""Which worker processes of this server have started (``/readyz``'s ``processes`` check).

With ``--workers N`` uvicorn's supervisor starts N processes on one listening
socket, each building its app (the spec, the seeded data) for a second or more.
A connection is accepted by a process that is serving when it arrives, and a
keep-alive connection stays where it was accepted: a balancer's pool or a load
test that starts as soon as the first process answers puts every connection on
that one, and the others idle for as long as those connections live (16 of 16
on one worker, ``bench/README.md``). So a process is ready only when all N are.

The supervisor's run names a fresh directory in ``ROLL_ENV`` before it spawns
the workers (``transport/uvicorn_config.py``). Each worker writes a file named by
its process id there once its lifespan has started, and removes it when it
begins to stop. A file whose process is gone (a worker killed with SIGKILL) does
not count and is removed; the supervisor's replacement writes its own. A single
process (``--workers 1``, an app built in a test) has no roll: always complete.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Names the run's directory in each worker's environment (set before they are spawned).
ROLL_ENV = "PIN_MOCK_WORKER_ROLL"


class ProcessRoll:
    """The started worker processes of one server, ``expected`` of them when complete."""

    def __init__(self, directory: Path | None, expected: int) -> None:
        self.directory = directory
        self.expected = expected

    @classmethod
    def from_environment(cls, workers: int) -> ProcessRoll:
        named = os.environ.get(ROLL_ENV)
        return cls(Path(named) if named and workers > 1 else None, workers)

    def join(self) -> None:
        """This process serves (its lifespan started)."""
        if self.directory is not None:
            (self.directory / str(os.getpid())).touch()

    def leave(self) -> None:
        """This process stops serving (its lifespan is ending)."""
        if self.directory is not None:
            (self.directory / str(os.getpid())).unlink(missing_ok=True)

    def missing(self) -> int:
        """How many of the expected processes are not serving (0: complete)."""
        if self.directory is None:
            return 0
        try:
            names = [e.name for e in os.scandir(self.directory) if e.name.isdigit()]
        except FileNotFoundError:  # the run is over: nobody is on the roll
            return self.expected
        present = 0
        for name in names:
            if _alive(int(name)):
                present += 1
            else:  # killed before it could leave: its replacement joins under its own id
                (self.directory / name).unlink(missing_ok=True)
        return max(self.expected - present, 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists (another user's)
        return True
    try:  # Linux: a killed worker the supervisor has not reaped yet is a zombie
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat.rpartition(b")")[2].split()[:1] != [b"Z"]
