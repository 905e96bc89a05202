"""Instructions per request: the app's own cost, counted rather than timed.

    python bench/instructions.py [--requests 200] [--state redis://127.0.0.1:6379/N]
                                 [--only POST] [--jobs 2]

On a shared virtual machine the same code's requests per second move by 25%
from one run to the next, and its CPU time per request by 15%: too much to see
a change of 5%. An instruction count does not move with the machine's load
(between runs of the same code: about 4% in memory; on Redis about 10%, as how
often the event loop waits for an answer depends on timing).
Each endpoint of ``where_time_goes.py`` is driven in-process (no sockets, no
uvicorn) under Valgrind's callgrind, which counts the instructions the Python
process runs: once warmed up with no request measured (the baseline), and once
per endpoint with ``--requests`` more; the difference divided by the requests is
that endpoint's instructions per request (Redis's own work and the kernel's are
not in it). Needs ``valgrind`` (Debian: apt-get install valgrind); a run takes a
few minutes (each child is about 50 times slower under callgrind).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from where_time_goes import CLIENT, ENDPOINTS, call, drive  # noqa: E402

WARM_UP = 100  #: requests of every endpoint before anything is measured


async def child(state: str, measured: int | None, requests: int) -> None:
    """Build the app, warm every endpoint, then send ``requests`` of endpoint ``measured``."""
    from pin_mock.server import Settings, create_app

    app = create_app(
        Settings(
            tier_limits={"standard": 1, "professional": 1, "enterprise": 10**9},
            token_grants_per_client=10**9,
            quota_patients=10**9,
            state=state,
        )
    )
    form = urlencode(CLIENT).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    token = orjson.loads((await call(app, "POST", "/oauth/token", headers, form))[1])
    for method, path in ENDPOINTS:
        await drive(app, token["access_token"], method, path, WARM_UP)
    if measured is not None:
        method, path = ENDPOINTS[measured]
        await drive(app, token["access_token"], method, path, requests)
    # Ended here: what the event loop's teardown runs is no request's (and the app's
    # background tasks, never started by a lifespan here, need not be waited for).
    os._exit(0)


def counted(state: str, measured: int | None, requests: int) -> int:
    """Instructions callgrind counted in one child."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, __file__, "--child", str(-1 if measured is None else measured)]
    command += ["--state", state, "--requests", str(requests)]
    if state.startswith("redis"):  # each child starts from the same (empty) database
        import redis

        redis.Redis.from_url(state).flushdb()
    # One string hash for every child: set and dict orders, so the work, are the same.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind run failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--state",
        default="memory://",
        help="the state engine (a Redis database it may flush: its keys are the sandbox's)",
    )
    parser.add_argument("--only", default="", help="only the endpoints whose line has this")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        measured = None if args.child < 0 else args.child
        asyncio.run(child(args.state, measured, args.requests))
        return
    chosen = [i for i, (m, p) in enumerate(ENDPOINTS) if args.only in f"{m} {p}"]
    runs: list[int | None] = [None, *chosen]
    if args.state.startswith("redis"):
        args.jobs = 1  # the children would share (and flush) one database
    with ThreadPoolExecutor(args.jobs) as pool:
        totals = list(pool.map(lambda m: counted(args.state, m, args.requests), runs))
    baseline = totals[0]
    print(f"instructions per request ({args.state}, {args.requests} requests each):")
    for index, total in zip(chosen, totals[1:], strict=True):
        method, path = ENDPOINTS[index]
        print(f"{method:4} {path:62} {(total - baseline) / args.requests:10,.0f}")


if __name__ == "__main__":
    main()
