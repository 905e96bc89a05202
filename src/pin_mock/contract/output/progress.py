"""Progress of a run: one updating line on a terminal, plain lines in CI and logs.

Schemathesis's own output goes to a file (it would interleave with ours);
progress comes from its NDJSON events instead.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from pin_mock.contract.findings import Finding


class Progress:
    """Silent progress (library use); the base of the two displays."""

    def note(self, message: str) -> None:
        """A one-off line (pacing chosen, budget, ...)."""

    def probe(self, name: str, findings: int, skipped: str | None) -> None:
        """A probe finished."""

    def event(self, name: str, payload: dict[str, Any], new: list[Finding]) -> None:
        """A Schemathesis NDJSON event arrived."""

    def close(self) -> None:
        """The run is over (clear a status line)."""


class PlainProgress(Progress):
    """Line by line: phases, failing operations, probe verdicts (for CI logs)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.scenarios = 0
        self.seen: set[tuple[str, str, str]] = set()

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        self._write(message)

    def probe(self, name: str, findings: int, skipped: str | None) -> None:
        verdict = f"SKIP ({skipped})" if skipped else ("FAIL" if findings else "ok")
        self._write(f"probe  {name}: {verdict}")

    def event(self, name: str, payload: dict[str, Any], new: list[Finding]) -> None:
        if name == "PhaseStarted":
            phase = (payload.get("phase") or {}).get("name")
            if phase and phase != "probing":
                self._write(f"phase  {phase} ...")
        elif name == "ScenarioFinished":
            self.scenarios += 1
            for finding in new:
                if finding.key not in self.seen:
                    self.seen.add(finding.key)
                    self._write(f"FAIL   {finding.operation}: {finding.check}")


class TtyProgress(PlainProgress):
    """A status line rewritten in place, with failures printed above it as they come."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.phase = "probes"
        self.failures = 0
        self.started = time.monotonic()

    def _status(self) -> None:
        elapsed = time.monotonic() - self.started
        line = f"  {self.phase:<9} {self.scenarios:>4} scenarios  {self.failures:>3} failing  {elapsed:5.0f}s"
        self.stream.write("\r\033[2K" + line)
        self.stream.flush()

    def _write(self, line: str) -> None:
        self.stream.write("\r\033[2K" + line + "\n")
        self._status()

    def probe(self, name: str, findings: int, skipped: str | None) -> None:
        self.failures += bool(findings)
        if findings:
            self._write(f"FAIL   probe {name}")
        else:
            self._status()

    def event(self, name: str, payload: dict[str, Any], new: list[Finding]) -> None:
        if name == "PhaseStarted":
            phase = (payload.get("phase") or {}).get("name")
            if phase and phase != "probing":
                self.phase = phase
            self._status()
            return
        fresh = [f for f in new if f.key not in self.seen]
        self.failures += len({f.key for f in fresh})
        super().event(name, payload, new)
        self._status()

    def close(self) -> None:
        self.stream.write("\r\033[2K")
        self.stream.flush()


def choose_progress(stream: TextIO | None = None, quiet: bool = False) -> Progress:
    """A status line on a terminal; plain lines when not a TTY or under CI."""
    stream = stream or sys.stderr
    if quiet:
        return Progress()
    if stream.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb":
        return TtyProgress(stream)
    return PlainProgress(stream)
