"""No single request stalls the server: the worst bodies of every operation cost little.

OWASP API Security Top 10 2023:
- API4:2023 Unrestricted Resource Consumption: before issue 18 (finding 1)
  ``POST /v1/webhooks`` with 8,000 distinct mixed-type ``events`` (58 KB) held
  the event loop for 5-9 s while every other client waited: jsonschema's
  ``uniqueItems`` compares every pair of items it cannot sort, and ``events``
  had no ``maxItems``. Naming where each value of a body sits also copied its
  path once per value below it (quadratic in a body of long keys over a wide
  list). Now every array in the spec has a ``maxItems`` that fits its
  domain, ``uniqueItems`` is checked in linear time, paths are spelled only
  for an error, and a form body is at most a few KB.
- API8:2023 Security Misconfiguration: the bounds are in the spec, where
  generators and the kit read them.

The sandbox runs in its own process (``pin-mock serve``), so a stalled loop
fails this test instead of hanging it. The bounds are loose and relative: a
hostile answer within ``ANSWER_BOUND`` seconds, and another client's request
made meanwhile delayed at most ``DELAY_FLOOR`` seconds or ``DELAY_FACTOR``
times its own slow (90th percentile) latency measured just before, whichever
is more, so a loaded machine does not fail it; before the fix the delay was
seconds to minutes.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sec_servers import CliServer, token
from spec_conformance import spec

ANSWER_BOUND = 10.0
DELAY_FLOOR = 2.0
DELAY_FACTOR = 10.0
#: Bodies fill this much of the 1 MiB limit (the hostile shapes are as large as allowed).
BODY_BYTES = 1_000_000
#: Path parameters: a seeded patient; other ids need not exist (the body is read first).
PATH_VALUES = {"patient_id": "patient_123"}


def _array_paths(schema: dict[str, Any], at: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Where a body schema has arrays (through properties, oneOf, allOf)."""
    if schema.get("type") == "array":
        yield at
    for name, sub in (schema.get("properties") or {}).items():
        yield from _array_paths(sub, (*at, name))
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key) or []:
            yield from _array_paths(sub, at)


def _mixed(count_bytes: int) -> list[Any]:
    """Distinct items of mixed types, which no sort can order (ints, text, objects)."""
    items: list[Any] = []
    size, i = 2, 0
    while True:
        triple = [i, f"e{i}", {"n": i}]
        size += sum(len(json.dumps(item)) + 2 for item in triple)
        if size > count_bytes:
            return items
        items += triple
        i += 1


def _at(path: tuple[str, ...], value: Any) -> Any:
    for name in reversed(path):
        value = {name: value}
    return value


def _deep_long_keys() -> Any:
    """31 levels of 30,000-character keys over a list of 20,000 items (about 1 MB)."""
    value: Any = [0] * 20_000
    for level in range(31):
        value = {chr(ord("a") + level % 26) * 30_000: value}
    return value


def hostile_bodies(schema: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """The worst shapes for a JSON body of ``schema``, each about ``BODY_BYTES``."""
    for path in _array_paths(schema):
        yield (
            f"mixed array at {'.'.join(path) or 'body'}",
            json.dumps(_at(path, _mixed(BODY_BYTES))).encode(),
        )
    yield "top-level mixed array", json.dumps(_mixed(BODY_BYTES)).encode()
    yield "wide object", json.dumps({f"k{i}": i for i in range(60_000)}).encode()
    yield "deep long keys", json.dumps(_deep_long_keys()).encode()
    strings = {
        name: "a" * (BODY_BYTES // 8)
        for name, sub in (schema.get("properties") or {}).items()
        if sub.get("type") == "string"
    }
    yield "long strings", json.dumps(strings).encode()


def _operations_with_bodies() -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for template, item in spec()["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body:
                path = template
                for name, value in PATH_VALUES.items():
                    path = path.replace("{" + name + "}", value)
                path = path.replace("{", "x").replace("}", "")
                for media, content in body["content"].items():
                    found.append((method.upper(), path, media, content.get("schema", {})))
    return found


class Probe:
    """Another client's request, made over and over: its latency while something runs."""

    def __init__(self, base_url: str, bearer: str) -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {bearer}"}, timeout=300
        )
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def once(self) -> None:
        started = time.perf_counter()
        answer = self.client.get("/v1/patients/patient_123")
        self.samples.append((started, time.perf_counter()))
        assert answer.status_code == 200, answer.text

    def _run(self) -> None:
        while not self._stop.is_set():
            self.once()
            time.sleep(0.01)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=300)
        self.client.close()

    def worst_during(self, start: float, end: float) -> float:
        """The longest probe that overlapped ``[start, end]`` (0 if none did)."""
        return max((e - s for s, e in self.samples if s < end and e > start), default=0.0)


@pytest.fixture(scope="module")
def server() -> Iterator[CliServer]:
    cli = CliServer("--log-level", "warning")
    try:
        cli.wait_ready()
        yield cli
    finally:
        cli.stop()


def _baseline(probe: Probe) -> float:
    for _ in range(30):
        probe.once()
    latencies = sorted(e - s for s, e in probe.samples)
    probe.samples.clear()
    return statistics.quantiles(latencies, n=10)[-1]  # the 90th percentile


def test_every_array_in_the_spec_has_a_max_items() -> None:
    missing: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "array" and "maxItems" not in node:
                missing.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(spec(), "spec")
    assert not missing, missing


def test_unique_enum_arrays_hold_no_more_items_than_the_enum() -> None:
    # uniqueItems over an enum: more items than values is always invalid, so say so first.
    events = spec()["components"]["schemas"]["WebhookCreate"]["properties"]["events"]
    assert events["uniqueItems"] and events["maxItems"] == len(events["items"]["enum"])


def test_worst_bodies_of_every_operation_neither_stall_nor_delay_others(server: CliServer) -> None:
    operations = _operations_with_bodies()
    assert {(m, p) for m, p, _, _ in operations} >= {
        ("POST", "/oauth/token"),
        ("POST", "/v1/patients"),
        ("POST", "/v1/webhooks"),
    }, "the spec's operations with a body were not all found"
    bearer = token(server.base_url)
    other = token(server.base_url, "sandbox-professional")
    slow: list[str] = []
    with Probe(server.base_url, other) as probe, httpx.Client(timeout=ANSWER_BOUND * 2) as client:
        allowed = max(DELAY_FLOOR, DELAY_FACTOR * _baseline(probe))
        for method, path, media, schema in operations:
            if media == "application/x-www-form-urlencoded":
                shapes = [
                    ("1 MiB form", b"&".join(b"%%41%d=%%41" % i for i in range(80_000))),
                    ("many fields", b"a=&" * 1_300),
                ]
            else:
                shapes = list(hostile_bodies(schema))
            for shape, body in shapes:
                assert len(body) <= 1_048_576 or media.endswith("urlencoded"), shape
                started = time.perf_counter()
                try:
                    answer = client.request(
                        method,
                        server.base_url + path,
                        content=body,
                        headers={"Authorization": f"Bearer {bearer}", "Content-Type": media},
                    )
                except httpx.TimeoutException:
                    slow.append(f"{method} {path} {shape}: no answer in {ANSWER_BOUND * 2:g} s")
                    break  # the server is stalled: the rest would only wait too
                ended = time.perf_counter()
                # 400: the body was read, parsed and judged (not refused by its length).
                expected = {400, 413} if media.endswith("urlencoded") else {400}
                if answer.status_code not in expected or len(answer.content) > 4_096:
                    slow.append(
                        f"{method} {path} {shape}: {answer.status_code} {answer.text[:200]}"
                    )
                delay = probe.worst_during(started, ended)
                if ended - started > ANSWER_BOUND or delay > allowed:
                    slow.append(
                        f"{method} {path} {shape}: answered in {ended - started:.2f} s, "
                        f"another client waited {delay:.2f} s (allowed {allowed:.2f} s)"
                    )
    assert not slow, "\n".join(slow)
