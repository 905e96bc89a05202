"""Runs repeat: ten back-to-back default runs against one sandbox, and ten pytest-plugin runs.

The sandbox is ``pin-mock serve`` with its default settings (real tiers, token
throttle, webhook timeout and retry schedule), started once. Each run is what a
CI job would run (``pin-mock contract --base-url URL``; ``pytest
--pin-base-url URL``): every one exits 0, and none takes more than 20% longer
than the first (the kit removes what it created and its webhooks never wait on
a name that does not resolve, so nothing piles up). ``make contract-repeat``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


@pytest.fixture(scope="module")
def default_sandbox(tmp_path_factory) -> Iterator[str]:
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
            yield url
        finally:
            process.terminate()
            process.wait(30)


def timed(command: list[str], cwd: Path) -> tuple[int, float, str]:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=900)
    return done.returncode, time.monotonic() - started, done.stdout[-3000:] + done.stderr[-2000:]


def judge(label: str, results: list[tuple[int, float, str]], capsys) -> None:
    times = [seconds for _, seconds, _ in results]
    with capsys.disabled():
        print(
            f"\n{label}: exit {[code for code, _, _ in results]}; seconds {[round(t, 1) for t in times]}"
        )
    for number, (code, _, output) in enumerate(results, 1):
        assert code == 0, f"run {number} of {label}: exit {code}\n{output}"
    assert max(times) <= times[0] * 1.2, f"{label}: {times}"


def test_ten_back_to_back_default_runs(default_sandbox, tmp_path, capsys) -> None:
    command = [
        sys.executable,
        "-m",
        "pin_mock.cli",
        "contract",
        "--base-url",
        default_sandbox,
        "-q",
    ]
    judge("pin-mock contract", [timed(command, tmp_path) for _ in range(RUNS)], capsys)


def test_ten_back_to_back_plugin_runs(default_sandbox, tmp_path, capsys) -> None:
    (tmp_path / "test_own.py").write_text("def test_own_suite():\n    assert True\n")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path),
               "--pin-base-url", default_sandbox]  # fmt: skip
    judge("pytest --pin-base-url", [timed(command, tmp_path) for _ in range(RUNS)], capsys)
