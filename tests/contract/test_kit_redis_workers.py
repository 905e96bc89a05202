"""The kit against ``pin-mock serve --workers 2 --state redis://``: it exits 0.

The sandbox is started as an operator would start it (the CLI, uvicorn's
worker supervisor, two processes on one socket sharing a Redis database this
test process claimed), with every other setting at its default: real tiers,
the token throttle, report delays, webhook timeouts and retries. The kit is
run as a CI job would run it: ``pin-mock contract --base-url URL``.

``make test`` runs every probe (writes through one worker read back through
whichever the kernel picks next, webhooks delivered by either, reports, rate
limits, a second client); the whole default run (Schemathesis's phases too,
about 100 s on a loaded 2-core machine) is a long run: ``make contract-long``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kit_helpers import long_runs_enabled
from redis_db import fresh_db

#: Every wait here is bounded by this.
BOUND = 60.0


def _workers(pid: int) -> list[int]:
    """uvicorn's worker processes under the supervisor ``pid`` (Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [p for p in pids if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


@pytest.fixture(scope="module")
def two_worker_sandbox(tmp_path_factory) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    tmp_path = tmp_path_factory.mktemp("two-workers")
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-m", "pin_mock.cli", "serve", "--port", str(port), "--workers", "2",
               "--state", fresh_db().url]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if (
                    httpx.get(url + "/openapi.json", timeout=2).status_code == 200
                    and len(_workers(process.pid)) == 2
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(
                f"the sandbox did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}"
            )
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
        log.close()


def kit(base_url: str, report: Path, *options: str) -> str:
    command = [sys.executable, "-m", "pin_mock.cli", "contract", "--base-url", base_url,
               "--report-dir", str(report), *options]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=report.parent, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    return (report / "summary.txt").read_text()


def test_every_probe_passes_a_two_worker_redis_sandbox(two_worker_sandbox, tmp_path) -> None:
    summary = kit(two_worker_sandbox, tmp_path / "report", "--phases", "probes",
                  "--second-client-id", "sandbox-professional",
                  "--second-client-secret", "sandbox-professional-secret")  # fmt: skip
    assert re.search(r"probes: \d+ \(\d+ run, 0 failing, 0 skipped", summary), summary[:2000]


@pytest.mark.slow
@pytest.mark.skipif(
    not long_runs_enabled(), reason="long run: set PIN_MOCK_LONG=1 (make contract-long)"
)
def test_the_default_kit_passes_a_two_worker_redis_sandbox(two_worker_sandbox, tmp_path) -> None:
    kit(two_worker_sandbox, tmp_path / "report")
