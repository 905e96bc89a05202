"""Side-by-side benchmark: the pin-mock sandbox on each state engine, and Stoplight Prism.

One run serves the same openapi/pin.yaml four ways, on loopback, and drives
each with wrk at a fixed concurrency for a bounded time:

- 1 worker, memory (``pin-mock serve``, the default);
- 1 worker, Redis (``--state redis://``);
- 2 workers, Redis (``--workers 2 --state redis://``);
- Prism (``prism mock``).

It prints requests/s and p50/p99 latency per endpoint per row, the ratios
between them, start-up times, resident memory, the contract kit's run time,
and, at scale (100,000 seeded patients plus 20,000 created through the API):
``search=smith`` latency at 16 connections, each worker's resident-memory
growth from the creates, and Redis's memory per created patient (the sum of
``MEMORY USAGE`` over the benchmark's own database). Results go to bench/results/.

    python bench/run.py [--duration 5] [--connections 16] [--skip-prism] [--skip-kit] [--quick]
                        [--redis redis://127.0.0.1:6379] [--seeded 100000] [--created 20000]

Needs wrk (Debian: apt-get install wrk), a Redis server for the Redis rows
(without one they are skipped, said so) and, for the comparison, Prism
(`npm install --prefix bench` installs the pinned version from bench/package.json).
The Redis rows use a database of their own, claimed like the tests claim one
(``pin-mock-test-claim:N`` in database 0) and flushed only it.
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


def sandbox(port: int, patients: int = 150, *, workers: int = 1, state: str = "memory://"):
    cmd = [sys.executable, "-m", "pin_mock.cli", "serve", "--port", str(port)]
    cmd += ["--patients", str(patients), "--workers", str(workers)]
    # The limits are lifted for the benchmark (not the code path): it is still counted.
    env = {
        "PIN_MOCK_STATE": state,
        "PIN_MOCK_LOG_LEVEL": "warning",
        "PIN_MOCK_TIER_LIMITS": LIFTED_LIMITS,
        # wrk mints no tokens, but the kit timing run does; creates must not hit quotas.
        "PIN_MOCK_TOKEN_GRANTS_PER_CLIENT": "1000000000",
        "PIN_MOCK_TOKEN_FAILURES_PER_CLIENT_ADDRESS": "1000000000",
        "PIN_MOCK_TOKEN_FAILURES_PER_CLIENT": "1000000000",
        "PIN_MOCK_TOKEN_FAILURES_PER_ADDRESS": "1000000000",
        "PIN_MOCK_TOKEN_MALFORMED_PER_ADDRESS": "1000000000",
        "PIN_MOCK_QUOTA_PATIENTS": "1000000000",
    }
    return process(cmd, env=env)


def serving_pids(proc: subprocess.Popen, workers: int, timeout: float = 120.0) -> list[int]:
    """The processes that serve: the command itself, or its ``workers`` children."""
    if workers == 1:
        return [proc.pid]
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [int(p) for p in children.read_text().split()]
        pids = [p for p in pids if b"resource_tracker" not in _cmdline(p)]
        if len(pids) == workers:
            return pids
        time.sleep(0.1)
    raise RuntimeError(f"{workers} workers did not start")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


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
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return {"seconds": time.perf_counter() - started, "exit_code": done.returncode}


def prism_binary() -> str | None:
    local = ROOT / "bench" / "node_modules" / ".bin" / "prism"
    return str(local) if local.exists() else shutil.which("prism")


# -- Redis: a database of the benchmark's own ------------------------------------


class RedisDb:
    """A free database 1..15 claimed as the tests claim one; flushed, never another."""

    def __init__(self, server: str) -> None:
        import redis  # the server extra's client

        self.server = server.rstrip("/")
        self.owner = f"bench:{os.getpid()}"
        self._claims = redis.Redis.from_url(f"{self.server}/0", socket_connect_timeout=2)
        self._claims.ping()
        for number in range(1, 16):
            if self._claims.set(f"pin-mock-test-claim:{number}", self.owner, nx=True, ex=7200):
                self.number = number
                break
        else:
            raise RuntimeError(f"no free Redis database 1..15 at {self.server}")
        self.client = redis.Redis.from_url(self.url)
        self.flush()

    @property
    def url(self) -> str:
        return f"{self.server}/{self.number}"

    def flush(self) -> None:
        self.client.flushdb()

    def bytes_used(self) -> int:
        """Sum of ``MEMORY USAGE`` over every key of this database (INFO is server-wide)."""
        total = 0
        for key in self.client.scan_iter(count=1000):
            total += self.client.memory_usage(key, samples=0) or 0
        return total

    def release(self) -> None:
        self.flush()
        key = f"pin-mock-test-claim:{self.number}"
        if self._claims.get(key) == self.owner.encode():
            self._claims.delete(key)


def open_redis(server: str) -> RedisDb | None:
    try:
        return RedisDb(server)
    except Exception as exc:  # no Redis here: the memory rows still run
        print(f"Redis not usable at {server} ({exc}): the Redis rows are skipped", file=sys.stderr)
        return None


# -- creating patients at scale ----------------------------------------------------

_CREATE_SCRIPT = """
local surnames = {"Smith", "Jones", "Garcia", "Nguyen", "Okafor"}
local n, limit = 0, %d
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format(
    '{"name": "Bench%%d %%s", "date_of_birth": "1980-01-01", "gender": "other"}',
    n, surnames[n %% 5 + 1])
  return wrk.format(nil, nil, nil, body)
end
response = function(status)
  if n >= limit then wrk.thread:stop() end
end
"""


def patients_total(base: str, bearer: str) -> int:
    request = urllib.request.Request(
        f"{base}/v1/patients?limit=1", headers={"Authorization": f"Bearer {bearer}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.load(response)["pagination"]["total"])


def create_patients(base: str, bearer: str, count: int, connections: int) -> dict:
    """``count`` patients created through the API by wrk; creates per second.

    The script stops sending after ``count`` (a few more may be in flight), but
    wrk itself runs out its ``-d``: the total is polled and wrk interrupted.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        # Requests still in flight when the script stops may never be sent: a
        # margin of two per connection still reaches ``count``.
        script.write(_CREATE_SCRIPT % (count + 2 * connections))
    target = patients_total(base, bearer) + count
    cmd = ["wrk", "-t1", f"-c{connections}", "-d900s", "-s", script.name]
    cmd += ["-H", f"Authorization: Bearer {bearer}", f"{base}/v1/patients"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        last, stalled = 0, time.monotonic()
        while proc.poll() is None and (total := patients_total(base, bearer)) < target:
            if total != last:
                last, stalled = total, time.monotonic()
            elif time.monotonic() - stalled > 60:  # creates refused or stuck: say so below
                break
            time.sleep(0.25)
        seconds = time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGINT)  # wrk prints its summary and exits
        out = proc.communicate(timeout=60)[0]
        os.unlink(script.name)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "created": patients_total(base, bearer) - (target - count),
        "seconds": seconds,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def at_scale(name: str, workers: int, state: str, db: RedisDb | None, args) -> dict:
    """Seeded + created patients: search latency, RSS growth per worker, Redis bytes."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    out: dict = {}
    with sandbox(port, patients=args.seeded, workers=workers, state=state) as proc:
        out["startup_s"] = wait_until_up(base + "/readyz", timeout=900)
        pids = serving_pids(proc, workers)
        bearer = token(base)
        # Warm the paths the creates and searches take (first-use caches, the index).
        wrk(base + "/v1/patients?search=smith&limit=10", "GET", None, None, bearer, _short(args))
        rss_before = {pid: rss_mib(pid) for pid in pids}
        redis_before = db.bytes_used() if db else 0
        out["create"] = create_patients(base, bearer, args.created, args.connections)
        rss_after = {pid: rss_mib(pid) for pid in pids}
        out["rss_growth_mib"] = [rss_after[p] - rss_before[p] for p in pids]
        out["rss_after_mib"] = [rss_after[p] for p in pids]
        created = out["create"]["created"]
        if db:
            out["redis_bytes_per_patient"] = (db.bytes_used() - redis_before) / max(created, 1)
        url = base + "/v1/patients?search=smith&limit=10"
        out["search"] = wrk(url, "GET", None, None, bearer, args)
        single = argparse.Namespace(**{**vars(args), "connections": 1})
        out["search_single"] = wrk(url, "GET", None, None, bearer, single)
    print(f"  at scale done: {name}", file=sys.stderr)
    return out


def _short(args) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "duration": 1})


# -- the run ---------------------------------------------------------------------

#: The sandbox rows: (name, workers, Redis?).
CONFIGS = [
    ("1 worker, memory", 1, False),
    ("1 worker, Redis", 1, True),
    ("2 workers, Redis", 2, True),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-prism", action="store_true")
    parser.add_argument("--quick", action="store_true", help="skip the runs at scale")
    parser.add_argument("--skip-kit", action="store_true", help="skip timing the contract kit")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis server")
    parser.add_argument("--seeded", type=int, default=100_000, help="seeded patients at scale")
    parser.add_argument("--created", type=int, default=20_000, help="patients created at scale")
    args = parser.parse_args()
    # SIGTERM (a CI timeout) unwinds like Ctrl-C: servers stopped, the Redis claim released.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "settings": {
            "duration_s": args.duration,
            "connections": args.connections,
            "seeded": args.seeded,
            "created": args.created,
        },
        "rows": {},
        "scale": {},
    }
    db = open_redis(args.redis)
    try:
        for name, workers, uses_redis in CONFIGS:
            if uses_redis and db is None:
                continue
            if db:
                db.flush()
            state = db.url if uses_redis and db else "memory://"
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with sandbox(port, workers=workers, state=state) as proc:
                # /readyz: every worker serves (else wrk's connections all land on the first).
                results.setdefault("startup_s", {})[name] = wait_until_up(base + "/readyz")
                pids = serving_pids(proc, workers)
                results.setdefault("rss_mib", {})[name] = [rss_mib(p) for p in pids]
                results["rows"][name] = run_endpoints(base, token(base), args)
            print(f"  rows done: {name}", file=sys.stderr)

        if not args.skip_kit:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with sandbox(port):  # a fresh sandbox: the kit's run starts from the seeded state
                wait_until_up(base + "/openapi.json")
                results["contract_kit"] = contract_kit(base)

        if not args.skip_prism and prism_binary():
            port = free_port()
            pbase = f"http://127.0.0.1:{port}"
            cmd = [prism_binary(), "mock", "openapi/pin.yaml", "-p", str(port), "-h", "127.0.0.1"]
            with process(cmd):
                _wait_prism(pbase)
                results["rows"]["Prism"] = run_endpoints(pbase, "prism-accepts-any-token", args)
        elif not args.skip_prism:
            print("prism not found: npm install --prefix bench (skipping the comparison)")

        if not args.quick:
            for name, workers, uses_redis in CONFIGS:
                if uses_redis and db is None:
                    continue
                if db:
                    db.flush()
                state = db.url if uses_redis and db else "memory://"
                scale_db = db if uses_redis else None
                results["scale"][name] = at_scale(name, workers, state, scale_db, args)
    finally:
        if db:
            db.release()

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


# -- the report --------------------------------------------------------------------


def _cell(row: dict | None) -> str:
    if not row:
        return "-"
    flag = f" ({row['non_2xx']:,} non-2xx!)" if row["non_2xx"] else ""
    return f"{row['rps']:,.0f} ({row['p50_ms']:.2f} / {row['p99_ms']:.2f}){flag}"


def _ratio(a: dict | None, b: dict | None) -> str:
    return f"{a['rps'] / b['rps']:.2f}x" if a and b and b["rps"] else "-"


def render(results: dict) -> str:
    rows = results["rows"]
    names = list(rows)
    conns = results["settings"]["connections"]
    lines = [
        f"req/s (p50 / p99 ms), wrk 1 thread, {conns} connections, "
        f"{results['settings']['duration_s']} s per endpoint:",
        "",
        "| endpoint | " + " | ".join(names) + " | 2w Redis / 1w Redis | 2w Redis / 1w memory "
        "| slowest sandbox row / Prism |",
        "|---|" + "---:|" * (len(names) + 3),
    ]
    endpoints = next(iter(rows.values())).keys() if rows else []
    for endpoint in endpoints:
        cells = [_cell(rows[n].get(endpoint)) for n in names]
        two = rows.get("2 workers, Redis", {}).get(endpoint)
        one_redis = rows.get("1 worker, Redis", {}).get(endpoint)
        one_mem = rows.get("1 worker, memory", {}).get(endpoint)
        sandboxes = [rows[n][endpoint] for n in names if n != "Prism" and endpoint in rows[n]]
        slowest = min(sandboxes, key=lambda r: r["rps"]) if sandboxes else None
        prism = rows.get("Prism", {}).get(endpoint)
        lines.append(
            f"| {endpoint} | "
            + " | ".join(cells)
            + f" | {_ratio(two, one_redis)} | {_ratio(two, one_mem)} | {_ratio(slowest, prism)} |"
        )
    lines.append("")
    for name, seconds in results.get("startup_s", {}).items():
        rss = ", ".join(f"{m:.0f}" for m in results["rss_mib"][name])
        lines.append(f"- {name}: start-up {seconds:.2f} s, resident memory per worker {rss} MiB")
    scale = results.get("scale", {})
    if scale:
        s = results["settings"]
        lines += [
            "",
            f"At scale: {s['seeded']:,} seeded patients, then {s['created']:,} created through "
            f"the API (wrk, {conns} connections); `search=smith&limit=10`:",
            "",
            f"| row | start-up s | creates/s | search p50 ms ({conns} conn) | p99 ms | req/s "
            "| p50 ms (1 conn) | RSS growth per worker, MiB | Redis bytes per created patient |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in scale.items():
            create = row["create"]
            growth = ", ".join(f"{g:+.1f}" for g in row["rss_growth_mib"])
            per = row.get("redis_bytes_per_patient")
            flag = f" ({create['non_2xx']:,} non-2xx!)" if create["non_2xx"] else ""
            lines.append(
                f"| {name} | {row['startup_s']:.1f} | "
                f"{create['created'] / create['seconds']:,.0f}{flag} | "
                f"{row['search']['p50_ms']:.2f} | {row['search']['p99_ms']:.2f} | "
                f"{row['search']['rps']:,.0f} | {row['search_single']['p50_ms']:.2f} | "
                f"{growth} | {f'{per:,.0f}' if per is not None else '-'} |"
            )
    if "contract_kit" in results:
        k = results["contract_kit"]
        lines.append("")
        lines.append(
            f"- contract kit, default run (seed 1, 10 examples) against the sandbox "
            f"(1 worker, memory): {k['seconds']:.0f} s, exit {k['exit_code']}"
        )
    m = results["machine"]
    lines.append("")
    lines.append(f"- machine: {m['cpus']} CPUs, {m['platform']}, Python {m['python']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
