"""Soak: the contract kit's fuzzing against one sandbox for N minutes; no 5xx, bounded memory.

Starts ``pin-mock serve`` on 127.0.0.1 (a free port; JSON logs, so every answer
is one access-log object), then runs ``pin-mock contract`` against it again and
again (a new seed each run) until ``SOAK_MINUTES`` (default 10) have passed,
sampling the server's resident memory every 2 s. It talks to 127.0.0.1 only.

Prints requests served, 5xx answers, kit runs and their exit statuses, and
RSS at start (after the first kit run: caches warm), peak and end. Fails
(exit 1) on any 5xx, on an error logged by the server, if the server dies, or
if RSS grows by more than ``SOAK_RSS_GROWTH_MIB`` (default 150 MiB) from that
start to the end. The soak's sandbox has small quotas (2,000 patients, 10,000
entries, 200 reports, 20 webhooks, 1,000 pending deliveries per client), so
what the kit creates stops growing within minutes; growth beyond the bound
would be a leak.

    make soak                       # 10 minutes
    SOAK_MINUTES=3 make soak
    python bench/soak.py --minutes 1 --max-examples 20
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PHASES = "examples,coverage,fuzzing,stateful"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Server:
    """The sandbox under soak, its access log counted as it streams."""

    def __init__(self) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            # The kit's requests are counted but never refused: the soak is about 5xx and memory.
            "PIN_MOCK_TIER_LIMITS": "standard=100000000,professional=100000000,enterprise=100000000",
            "PIN_MOCK_TOKEN_GRANTS_PER_CLIENT": "1000000",
            # The kit's auth probes send wrong secrets on purpose; lift the lock-out too.
            "PIN_MOCK_TOKEN_FAILURES_PER_CLIENT_ADDRESS": "1000000",
            "PIN_MOCK_TOKEN_FAILURES_PER_CLIENT": "1000000",
            "PIN_MOCK_TOKEN_FAILURES_PER_ADDRESS": "1000000",
            # Fuzzing sends malformed token requests on purpose, run after run.
            "PIN_MOCK_TOKEN_MALFORMED_PER_ADDRESS": "1000000",
            "PIN_MOCK_REPORT_DELAY": "0.2",
            # Small quotas, so what the kit creates is capped within the first minutes:
            # after that the data stops growing, and so must the memory.
            "PIN_MOCK_QUOTA_PATIENTS": "2000",
            "PIN_MOCK_QUOTA_ENTRIES": "10000",
            "PIN_MOCK_QUOTA_REPORTS": "200",
            "PIN_MOCK_QUOTA_WEBHOOKS": "20",
            "PIN_MOCK_QUOTA_PENDING_DELIVERIES": "1000",
            "PIN_MOCK_WEBHOOK_TIMEOUT": "2",
        }
        command = [sys.executable, "-m", "pin_mock.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-format", "json", "--log-level", "info"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self.server_errors: list[str] = []
        self.logged_errors: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            try:
                record = json.loads(line)
            except ValueError:
                self.logged_errors.append(line.strip())  # not ours: a traceback or a crash
                continue
            if record.get("logger") == "uvicorn.access":
                self.requests += 1
                if int(record.get("status", 0)) >= 500:
                    self.server_errors.append(record["message"])
            elif record.get("level") in {"error", "critical"}:
                self.logged_errors.append(record["message"])

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("the sandbox exited during start-up")
            try:
                httpx.get(f"{self.base_url}/openapi.json", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit("the sandbox did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._reader.join(timeout=10)


def _kit_run(base_url: str, seed: int, max_examples: int, timeout: float) -> int:
    command = [sys.executable, "-m", "pin_mock.cli", "contract", "--base-url", base_url]
    command += ["--phases", PHASES, "--max-examples", str(max_examples), "--seed", str(seed), "-q"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1
    return done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 10)))
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument(
        "--rss-growth-mib", type=float, default=float(os.environ.get("SOAK_RSS_GROWTH_MIB", 150))
    )
    args = parser.parse_args()
    server = Server()
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(2.0):
            if server.process.poll() is None:
                samples.append(_rss_mib(server.process.pid))

    exits: list[int] = []
    try:
        server.wait_ready()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = time.monotonic() + args.minutes * 60
        start_rss = None
        seed = 1
        while time.monotonic() < deadline and server.process.poll() is None:
            remaining = deadline - time.monotonic()
            exits.append(_kit_run(server.base_url, seed, args.max_examples, max(remaining, 30)))
            if start_rss is None:
                start_rss = _rss_mib(server.process.pid)
            seed += 1
        died = server.process.poll() is not None
        end_rss = _rss_mib(server.process.pid) if not died else float("nan")
    finally:
        stop.set()
        server.stop()
    start_rss = start_rss or end_rss
    peak = max(samples, default=end_rss)
    growth = end_rss - start_rss
    print(f"soak: {args.minutes:g} min against {server.base_url}")
    print(f"  requests served: {server.requests}, 5xx: {len(server.server_errors)}")
    print(
        f"  kit runs: {len(exits)}, exit statuses: {sorted(set(exits))} (0 pass, 1 a check failed)"
    )
    print(f"  RSS MiB: start {start_rss:.1f} (after run 1), peak {peak:.1f}, end {end_rss:.1f}")
    print(f"  RSS growth {growth:+.1f} MiB (bound {args.rss_growth_mib:g})")
    failures = [
        *(["the sandbox died"] if died else []),
        *[f"5xx: {line}" for line in server.server_errors[:10]],
        *[f"logged error: {line}" for line in server.logged_errors[:10]],
        *([f"RSS grew {growth:.1f} MiB"] if growth > args.rss_growth_mib else []),
    ]
    for failure in failures:
        print(f"  FAIL {failure}")
    print("soak: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
