"""Runs repeat: ten back-to-back default runs against one sandbox, and ten pytest-plugin runs.

The sandbox is ``pin-mock serve`` with its default settings (real tiers, token
throttle, webhook timeout and retry schedule), started once. Each run is what a
CI job would run (``pin-mock contract --base-url URL``; ``pytest
--pin-base-url URL``): every one exits 0, and none takes more than 20% longer
than the first (the kit removes what it created and its webhooks never wait on
a name that does not resolve, so nothing piles up). ``make contract-repeat``.

"Longer" is measured twice. The work a run costs, the CPU seconds of the kit
(with its Schemathesis subprocess) and of the sandbox during the run, does not
depend on what else the machine runs: it is always judged. Wall-clock time is
judged too when the machine was not overloaded during the runs (a load average
above its core count, on a machine shared with other work, stretches any run);
else it is printed with the load, not judged.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kit_helpers import long_runs_enabled

RUNS = int(os.environ.get("PIN_MOCK_REPEAT_RUNS", "10"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not long_runs_enabled(), reason="long run: set PIN_MOCK_LONG=1 (make contract-repeat)"
    ),
]


@dataclass
class Run:
    code: int
    seconds: float
    #: CPU seconds of the kit (and what it waited for) and of the sandbox during the run.
    work: float
    load: float
    output: str


@pytest.fixture(scope="module")
def default_sandbox(tmp_path_factory) -> Iterator[tuple[str, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path_factory.mktemp("sandbox") / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "pin_mock.cli", "serve", "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/openapi.yaml", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        try:
            yield url, process.pid
        finally:
            process.terminate()
            process.wait(30)


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system, Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], cwd: Path, sandbox_pid: int) -> Run:
    def kit_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    started, kit, sandbox = time.monotonic(), kit_cpu(), cpu_seconds(sandbox_pid)
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=900)
    work = kit_cpu() - kit + cpu_seconds(sandbox_pid) - sandbox
    return Run(done.returncode, time.monotonic() - started, work, os.getloadavg()[0],
               done.stdout[-3000:] + done.stderr[-2000:])  # fmt: skip


def judge(label: str, runs: list[Run], capsys) -> None:
    times, work = [r.seconds for r in runs], [r.work for r in runs]
    cores = os.cpu_count() or 1
    overloaded = max(r.load for r in runs) > cores
    with capsys.disabled():
        print(f"\n{label}: exit {[r.code for r in runs]}"
              f"\n  seconds {[round(t, 1) for t in times]}"
              f"\n  CPU seconds (kit + sandbox) {[round(w, 1) for w in work]}"
              f"\n  load average after each run {[round(r.load, 1) for r in runs]} ({cores} cores)")  # fmt: skip
    for number, run in enumerate(runs, 1):
        assert run.code == 0, f"run {number} of {label}: exit {run.code}\n{run.output}"
    assert max(work) <= work[0] * 1.2, f"{label}: CPU seconds {work}"
    if overloaded:
        with capsys.disabled():
            print(f"  wall-clock times not judged: the load average reached "
                  f"{max(r.load for r in runs):.1f} on {cores} cores")  # fmt: skip
    else:
        assert max(times) <= times[0] * 1.2, f"{label}: {times}"


def test_ten_back_to_back_default_runs(default_sandbox, tmp_path, capsys) -> None:
    url, pid = default_sandbox
    command = [sys.executable, "-m", "pin_mock.cli", "contract", "--base-url", url, "-q"]
    judge("pin-mock contract", [timed(command, tmp_path, pid) for _ in range(RUNS)], capsys)


def test_ten_back_to_back_plugin_runs(default_sandbox, tmp_path, capsys) -> None:
    url, pid = default_sandbox
    (tmp_path / "test_own.py").write_text("def test_own_suite():\n    assert True\n")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path),
               "--pin-base-url", url]  # fmt: skip
    judge("pytest --pin-base-url", [timed(command, tmp_path, pid) for _ in range(RUNS)], capsys)
