"""Seeded data at scale: generation time and memory, start-up, analytics latency.

    python bench/data.py [--sizes 150 10000 100000] [--seed 42]

Each size runs in a fresh process, so the peak resident memory (ru_maxrss) is
that size's alone. Printed per size:

- generate:   seed.generate() (patients and compact histories), seconds
- store:      Store() on top of it (the search index), seconds
- startup:    build_services() + create_app() in total, seconds
- rss:        peak resident memory of the process, MiB (the interpreter and
              imports alone are ~70 MiB)
- entries:    building one patient's entries on first use, ms (mean over 200)
- population: GET /v1/analytics/population-health, cold (base aggregate
              computed) and warm, ms
- outcomes:   GET /v1/analytics/outcomes for all patients: cold with a new
              date range, warm (cached), and for one patient, ms

Numbers are in-process calls of the analytics functions (no HTTP), on this
machine; the README quotes them.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(size: int, seed: int) -> dict[str, float]:
    import pin_mock.server.domain.analytics as analytics
    from pin_mock._bundled import fixtures_dir
    from pin_mock.server.app import create_app
    from pin_mock.server.domain.ids import IdFactory
    from pin_mock.server.domain.seed.generator import generate
    from pin_mock.server.domain.store import Store
    from pin_mock.server.settings import Settings
    from pin_mock.server.state.engine import open_state
    from pin_mock.server.wiring import build_services

    out: dict[str, float] = {"patients": size}
    started = time.perf_counter()
    data = generate(fixtures_dir(), seed=seed, patients=size)
    out["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    engine = open_state("memory://")
    Store(data, IdFactory(engine.ids), engine.tenants)
    out["store_s"] = time.perf_counter() - started
    del data
    gc.collect()

    started = time.perf_counter()
    services = build_services(Settings(seed=seed, patients=size))
    create_app(services.settings, services=services)  # warms the base analytics too
    out["startup_s"] = time.perf_counter() - started
    store = services.store

    ids = [p["id"] for p in store.seed.patients[:: max(1, size // 200)]][:200]
    started = time.perf_counter()
    for pid in ids:
        store.seed.entries[pid]
    out["entries_ms"] = 1000 * (time.perf_counter() - started) / len(ids)

    client = "sandbox-enterprise"
    fresh = Store(store.seed, IdFactory(seed))
    started = time.perf_counter()
    analytics.population_health(fresh, client)
    out["population_cold_ms"] = 1000 * (time.perf_counter() - started)
    started = time.perf_counter()
    analytics.population_health(store, client)
    out["population_warm_ms"] = 1000 * (time.perf_counter() - started)
    started = time.perf_counter()
    analytics.outcomes(store, client, start_date="2024-03-01", end_date="2024-09-30")
    out["outcomes_cold_ms"] = 1000 * (time.perf_counter() - started)
    started = time.perf_counter()
    analytics.outcomes(store, client, start_date="2024-03-01", end_date="2024-09-30")
    out["outcomes_warm_ms"] = 1000 * (time.perf_counter() - started)
    started = time.perf_counter()
    analytics.outcomes(store, client, patient_id=ids[-1], interval="week")
    out["outcomes_patient_ms"] = 1000 * (time.perf_counter() - started)
    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 10_000, 100_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.seed)))
        return
    columns = [
        ("patients", "{:>8.0f}"),
        ("generate_s", "{:>10.2f}"),
        ("store_s", "{:>8.2f}"),
        ("startup_s", "{:>9.2f}"),
        ("rss_mib", "{:>8.0f}"),
        ("entries_ms", "{:>10.2f}"),
        ("population_cold_ms", "{:>18.1f}"),
        ("population_warm_ms", "{:>18.2f}"),
        ("outcomes_cold_ms", "{:>16.1f}"),
        ("outcomes_warm_ms", "{:>16.2f}"),
        ("outcomes_patient_ms", "{:>19.2f}"),
    ]
    print(" ".join(f"{name:>{len(fmt.format(0))}}" for name, fmt in columns))
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--seed", str(args.seed)]
        result = json.loads(
            subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        )
        print(" ".join(fmt.format(result[name]) for name, fmt in columns), flush=True)


if __name__ == "__main__":
    main()
