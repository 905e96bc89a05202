"""How long a test session waits for its sandbox: ``pin_mock.testing.sandbox()`` start-up.

    python bench/fixture_startup.py [--runs 7] [--patients 150]

Each run is a fresh Python process (what a pytest session pays): from before
``import pin_mock.testing`` to the first answer of ``GET /v1/patients/patient_123``
on the started sandbox, with the default settings (150 patients). Prints each
run's wall and CPU seconds, then the median, and the machine's load average:
on a shared machine the wall time grows with the load, the CPU time much less.
The first run also records the spec as validated (``pin_mock/testing/spec_check.py``);
it is reported apart. The target is a median under 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import json, sys, time
wall, cpu = time.perf_counter(), time.process_time()
from pin_mock.testing import sandbox
with sandbox(patients={patients}) as sb:
    status = sb.client.get("/v1/patients/patient_123").status_code
    started = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({{"wall": started[0], "cpu": started[1], "status": status}}))
"""


def one(patients: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", CHILD.format(patients=patients)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200, result
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--patients", type=int, default=150)
    args = parser.parse_args()
    first = one(args.patients)
    print(
        f"first run (records the validated spec): wall {first['wall']:.3f} s, cpu {first['cpu']:.3f} s"
    )
    runs = [one(args.patients) for _ in range(args.runs)]
    for number, run in enumerate(runs, 1):
        print(f"run {number}: wall {run['wall']:.3f} s, cpu {run['cpu']:.3f} s")
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    print(f"median of {len(runs)}: wall {wall:.3f} s, cpu {cpu:.3f} s  (target: under 1.5 s)")
    print(
        f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
