"""pin-mock's wheel, built once per test run and shared by every xdist worker.

Building it renders the API reference (``hatch_build.py``: a few seconds, and
Node.js), so the packaging tests and the installed-wheel test share one build:
the first worker to ask builds it under a lock, the others wait and reuse it.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def built_wheel(factory: pytest.TempPathFactory) -> Path:
    """The path of this run's ``pin_mock-*.whl`` (built with ``pip wheel --no-deps``)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"solo-{os.getpid()}"
    shared = factory.getbasetemp().parent if "PYTEST_XDIST_WORKER" in os.environ else factory.getbasetemp()  # fmt: skip
    where = shared / f"wheel-{run}"
    where.mkdir(parents=True, exist_ok=True)
    with (where / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = sorted(where.glob("pin_mock-*.whl"))
        if not found:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(where), str(ROOT)],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            found = sorted(where.glob("pin_mock-*.whl"))
        (path,) = found
        return path
