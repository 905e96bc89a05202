"""Side-by-side benchmark: the pin-mock sandbox against Stoplight Prism on openapi/pin.yaml.

Starts each server on loopback, drives it with wrk at a fixed concurrency for a
bounded time, and prints requests/s and p50/p99 latency per endpoint, the
sandbox/Prism ratio, start-up times, resident memory, search latency at 100,000
patients and the contract kit's run time. Results go to bench/results/.

    python bench/run.py [--duration 5] [--connections 16] [--skip-prism] [--quick]

Needs wrk (Debian: apt-get install wrk) and, for the comparison, Prism
(`npm install --prefix bench` installs the pinned version from bench/package.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CLIENT = ("sandbox-enterprise", "sandbox-enterprise-secret")
PATIENT = json.dumps({"name": "Jane Smith", "date_of_birth": "1985-05-20", "gender": "female"})
TOKEN_FORM = urllib.parse.urlencode(
    {"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": CLIENT[1]}
)
LIFTED_LIMITS = "standard=1000,professional=10000,enterprise=1000000000"
ENDPOINTS = [
    ("GET /v1/patients?limit=10", "GET", "/v1/patients?limit=10", None, None),
    ("GET /v1/patients/{id}", "GET", "/v1/patients/patient_123", None, None),
    (
        "GET .../clinical-data?data_type=pain_scores",
        "GET",
        "/v1/patients/patient_123/clinical-data?data_type=pain_scores",
        None,
        None,
    ),
    ("POST /v1/patients", "POST", "/v1/patients", PATIENT, "application/json"),
    ("POST /oauth/token", "POST", "/oauth/token", TOKEN_FORM, "application/x-www-form-urlencoded"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 120.0) -> float:
    """Seconds until ``url`` answers 200."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def process(cmd: list[str], env: dict[str, str] | None = None):
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def sandbox(port: int, patients: int = 150):
    cmd = [sys.executable, "-m", "pin_mock.cli", "serve", "--port", str(port)]
    cmd += ["--patients", str(patients)]
    # The limits are lifted for the benchmark (not the code path): it is still counted.
    env = {
        "PIN_MOCK_LOG_LEVEL": "warning",
        "PIN_MOCK_TIER_LIMITS": LIFTED_LIMITS,
        # wrk mints no tokens, but the kit timing run does; creates must not hit quotas.
        "PIN_MOCK_TOKEN_GRANTS_PER_CLIENT": "1000000000",
        "PIN_MOCK_TOKEN_FAILURES_PER_CLIENT": "1000000000",
        "PIN_MOCK_TOKEN_FAILURES_PER_ADDRESS": "1000000000",
        "PIN_MOCK_QUOTA_PATIENTS": "1000000000",
    }
    return process(cmd, env=env)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def token(base: str) -> str:
    request = urllib.request.Request(f"{base}/oauth/token", data=TOKEN_FORM.encode())
    with urllib.request.urlopen(request) as response:
        return json.load(response)["access_token"]


def wrk(url: str, method: str, body: str | None, ctype: str | None, bearer: str, args) -> dict:
    """Run wrk once; requests/s and latency percentiles in ms."""
    script = None
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    cmd += ["-H", f"Authorization: Bearer {bearer}"]
    if method == "POST":
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(
            f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
            f'wrk.headers["Content-Type"] = "{ctype}"\n'
        )
        script.close()
        cmd += ["-s", script.name]
    if "/oauth/token" in url:
        cmd[cmd.index("-H") + 1] = "X-Bench: 1"  # the token endpoint takes no bearer token
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)

    def latency(pct: str) -> float:
        found = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def run_endpoints(base: str, bearer: str, args) -> dict[str, dict]:
    return {
        name: wrk(base + path, method, body, ctype, bearer, args)
        for name, method, path, body, ctype in ENDPOINTS
    }


def contract_kit(base: str) -> dict:
    """Time the contract kit's default run (as CI runs it) against the sandbox."""
    cmd = [sys.executable, "-m", "pin_mock.cli", "contract", "--base-url", base]
    cmd += ["--seed", "1", "--max-examples", "10", "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    return {"seconds": time.perf_counter() - started, "exit_code": done.returncode}


def prism_binary() -> str | None:
    local = ROOT / "bench" / "node_modules" / ".bin" / "prism"
    return str(local) if local.exists() else shutil.which("prism")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-prism", action="store_true")
    parser.add_argument("--quick", action="store_true", help="skip the 100k-patient runs")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "settings": {"duration_s": args.duration, "connections": args.connections},
    }

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with sandbox(port) as proc:
        results["startup_default_s"] = wait_until_up(base + "/openapi.json")
        results["rss_default_mib"] = rss_mib(proc.pid)
        results["sandbox"] = run_endpoints(base, token(base), args)
    with sandbox(port):  # a fresh sandbox: the kit's run starts from the seeded state
        wait_until_up(base + "/openapi.json")
        results["contract_kit"] = contract_kit(base)

    if not args.skip_prism and prism_binary():
        port = free_port()
        pbase = f"http://127.0.0.1:{port}"
        cmd = [prism_binary(), "mock", "openapi/pin.yaml", "-p", str(port), "-h", "127.0.0.1"]
        with process(cmd):
            _wait_prism(pbase)
            results["prism"] = run_endpoints(pbase, "prism-accepts-any-token", args)
    elif not args.skip_prism:
        print("prism not found: npm install --prefix bench (skipping the comparison)")

    if not args.quick:
        for size in (10_000, 100_000):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with sandbox(port, patients=size) as proc:
                results[f"startup_{size}_s"] = wait_until_up(base + "/openapi.json", timeout=600)
                results[f"rss_{size}_mib"] = rss_mib(proc.pid)
                if size == 100_000:
                    bearer = token(base)
                    url = base + "/v1/patients?search=smith&limit=10"
                    results["search_100k"] = wrk(url, "GET", None, None, bearer, args)
                    # one connection: the latency of a search itself, without queueing
                    single = argparse.Namespace(**{**vars(args), "connections": 1})
                    results["search_100k_single"] = wrk(url, "GET", None, None, bearer, single)

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    table = render(results)
    (RESULTS / "latest.md").write_text(table)
    print(table)
    return 0


def _wait_prism(base: str, timeout: float = 60.0) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            urllib.request.urlopen(urllib.request.Request(base + "/v1/patients"), timeout=1)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("prism did not start")


def render(results: dict) -> str:
    lines = [
        "| endpoint | sandbox req/s | p50 ms | p99 ms | Prism req/s | Prism p99 ms | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    prism = results.get("prism", {})
    for name, row in results["sandbox"].items():
        other = prism.get(name)
        ratio = f"{row['rps'] / other['rps']:.1f}x" if other else "-"
        if row["non_2xx"]:  # a benchmark of error answers measures nothing: say so
            name = f"{name} ({row['non_2xx']:,} non-2xx!)"
        lines.append(
            f"| {name} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
            f"{other['rps']:,.0f} | {other['p99_ms']:.2f} | {ratio} |"
            if other
            else f"| {name} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} "
            "| - | - | - |"
        )
    lines.append("")
    lines.append(f"- start-up to first answer, default data: {results['startup_default_s']:.2f} s")
    lines.append(f"- resident memory, default data: {results['rss_default_mib']:.0f} MiB")
    for size in (10_000, 100_000):
        if f"startup_{size}_s" in results:
            lines.append(
                f"- {size:,} patients: start-up {results[f'startup_{size}_s']:.1f} s, "
                f"resident memory {results[f'rss_{size}_mib']:.0f} MiB"
            )
    if "search_100k" in results:
        s = results["search_100k"]
        lines.append(
            f"- search over 100,000 patients: p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms "
            f"at {results['settings']['connections']} connections ({s['rps']:,.0f} req/s)"
        )
    if "search_100k_single" in results:
        s = results["search_100k_single"]
        lines.append(
            f"- search over 100,000 patients, one connection: p50 {s['p50_ms']:.2f} ms, "
            f"p99 {s['p99_ms']:.2f} ms"
        )
    if "contract_kit" in results:
        k = results["contract_kit"]
        lines.append(
            f"- contract kit, default run (seed 1, 10 examples) against the sandbox: "
            f"{k['seconds']:.0f} s, exit {k['exit_code']}"
        )
    m = results["machine"]
    lines.append(f"- machine: {m['cpus']} CPUs, {m['platform']}, Python {m['python']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
