"""``pin-mock logs --follow`` run as a subprocess, as a newcomer would, and read line by line."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Every wait is bounded by this; none is a timing assumption.
BOUND = 60.0


class Follower:
    """``pin-mock logs --follow --base-url URL *args``; its output lines in a queue."""

    def __init__(self, base_url: str, *args: str) -> None:
        cmd = [sys.executable, "-m", "pin_mock.cli", "logs", "--follow", "--base-url", base_url]
        self.process = subprocess.Popen(
            [*cmd, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, lines), daemon=True).start()

    @staticmethod
    def _read(stream: object, lines: queue.Queue[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line.rstrip("\n"))

    def wait_following(self) -> None:
        """Until the command says it follows (its stream is open): requests after it count."""
        self.expect("Following the journal", self.err)

    def expect(self, text: str, lines: queue.Queue[str] | None = None) -> list[str]:
        """Lines read until one contains ``text`` (that one last)."""
        lines = self.out if lines is None else lines
        seen: list[str] = []
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and lines.empty():
                    break
                continue
            seen.append(line)
            if text in line:
                return seen
        raise AssertionError(f"no line with {text!r}; saw {seen}, exit {self.process.poll()}")

    def stop(self) -> int:
        """Ctrl-C, as a person stops it: the command ends cleanly."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return int(self.process.returncode)
