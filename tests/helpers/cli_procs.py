"""The sandbox verbs as a newcomer runs them: ``pin-mock ...`` subprocesses, lines read live."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Any

#: Every wait below is bounded by this; none is a timing assumption.
BOUND = 30.0


def pin_mock(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``pin-mock ARGS`` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "pin_mock.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Running:
    """``pin-mock ARGS`` in the background; its output lines read as they come."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pin_mock.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_line(self, predicate: Any, timeout: float = BOUND) -> str:
        """The first line (from now on, or already read) that ``predicate`` accepts."""
        for line in self.lines:
            if predicate(line):
                return line
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such line within {timeout} s: {self.lines[-20:]}")
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the process ended: {self.lines[-20:]}")
            self.lines.append(line)
            if predicate(line):
                return line

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig``, wait for the end; the exit code (the rest of the output read)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=BOUND)
        while True:
            try:
                line = self._queue.get(timeout=BOUND)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return code
