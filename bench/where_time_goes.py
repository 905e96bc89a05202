"""Where one request's time goes: in-process timing and a profile by package.

    python bench/where_time_goes.py [--requests 3000] [--path /v1/patients?limit=10]
                                    [--metrics] [--traces]
                                    [--state redis://127.0.0.1:6379/N] [--repeat 3]

``--metrics`` and ``--traces`` measure the sandbox with them on (traces are made
and batched for export but sent nowhere: ``OTEL_TRACES_EXPORTER=none`` unless set).

Calls the ASGI app directly (no sockets, no uvicorn, no HTTP client), so the
numbers are the app's own cost per request. Prints the mean microseconds per
request for the benchmark's endpoints, then a cProfile of one endpoint with
its own time summed per top-level package (pin_mock, connexion, starlette,
jsonschema, limits, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import orjson

from pin_mock.server import Settings, create_app

CLIENT = {
    "grant_type": "client_credentials",
    "client_id": "sandbox-enterprise",
    "client_secret": "sandbox-enterprise-secret",
}
PATIENT = {"name": "Jane Smith", "date_of_birth": "1985-05-20", "gender": "female"}
ENDPOINTS = [
    ("GET", "/v1/patients?limit=10"),
    ("GET", "/v1/patients/patient_123"),
    ("GET", "/v1/patients/patient_123/clinical-data?data_type=pain_scores"),
    ("POST", "/v1/patients"),
    ("POST", "/oauth/token"),
]


async def call(
    app: Any, method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One request straight into the ASGI app; its status and body."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def drive(app: Any, token: str, method: str, path: str, n: int) -> tuple[float, float]:
    """Send ``n`` requests one after the other; mean microseconds per request, of the wall
    clock and of this process's CPU (on Redis the wall clock includes the round trips)."""
    headers, body = {"authorization": f"Bearer {token}"}, b""
    if path == "/oauth/token":
        headers = {"content-type": "application/x-www-form-urlencoded"}
        body = urlencode(CLIENT).encode()
    elif method == "POST":
        headers["content-type"] = "application/json"
        body = orjson.dumps(PATIENT)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        status, answer = await call(app, method, path, headers, body)
        if status >= 400:
            raise SystemExit(f"{method} {path} answered {status}: {answer[:300]!r}")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall / n * 1e6, cpu / n * 1e6


def package_of(filename: str) -> str:
    for marker in ("site-packages/", "src/"):
        if marker in filename:
            return filename.split(marker, 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/lib/python" in filename:
        return "python (stdlib, asyncio)"
    return "builtins (C)" if filename == "~" else filename


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--path", default="/v1/patients?limit=10")
    parser.add_argument("--metrics", action="store_true", help="with --metrics on")
    parser.add_argument("--traces", action="store_true", help="with --traces on")
    parser.add_argument(
        "--state",
        default="memory://",
        help="the state engine (a Redis database it may flush: its keys are the sandbox's)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per endpoint; the minimum is printed"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the profile")
    args = parser.parse_args()
    os.environ.setdefault("OTEL_TRACES_EXPORTER", "none")
    # Limits lifted (tier, token throttle, quotas): the benchmark measures work, not refusals.
    app = create_app(
        Settings(
            tier_limits={"standard": 1, "professional": 1, "enterprise": 10**9},
            token_grants_per_client=10**9,
            quota_patients=10**9,
            metrics=args.metrics,
            traces=args.traces,
            state=args.state,
        )
    )
    form = urlencode(CLIENT).encode()
    status, answer = await call(
        app, "POST", "/oauth/token", {"content-type": "application/x-www-form-urlencoded"}, form
    )
    token = orjson.loads(answer)["access_token"]
    for method, path in ENDPOINTS:
        await drive(app, token, method, path, 200)  # warm caches and lazy histories
        # The machine is shared: the least of several runs is the app's own cost.
        runs = [await drive(app, token, method, path, args.requests) for _ in range(args.repeat)]
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"{method:4} {path:62} {wall:7.0f} µs  (CPU {cpu:5.0f} µs)")
    if args.no_profile:
        return

    profiler = cProfile.Profile()
    profiler.enable()
    await drive(app, token, "GET", args.path, args.requests)
    profiler.disable()

    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    own: Counter[str] = Counter()
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        own[package_of(filename)] += tottime
    total = sum(own.values())
    print(f"\nGET {args.path}: own time by package (profiled, {args.requests} requests)")
    for package, seconds in own.most_common(10):
        print(f"  {package:28} {seconds / total:6.1%}")


if __name__ == "__main__":
    asyncio.run(main())
