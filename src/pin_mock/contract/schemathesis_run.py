"""Run ``st run`` in a subprocess and read what it found from its NDJSON event stream.

The subprocess and its report files are Schemathesis's public, stable surface
(``schemathesis.engine`` is not public API). The NDJSON stream carries every
scenario with its checks and exchanges, so it gives the live progress, the
failing exchanges (for the HAR file and the curl reproductions) and the count
of 429 answers; the JSON report gives the verdict's totals and warnings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pin_mock.contract.findings import Finding
from pin_mock.contract.schemathesis_events import EventParser

__all__ = ["EventParser", "ST_PHASES", "StRunOutcome", "StRunSettings", "build_command", "run"]

ST_PHASES = ("examples", "coverage", "fuzzing", "stateful")
HOOKS_MODULE = "pin_mock.contract.hooks"
#: Operations answered mostly with 429 fail the run (Schemathesis alone only warns).
WARNINGS_TOML = '[warnings]\nfail-on = ["rate_limited"]\n'


@dataclass
class StRunSettings:
    """Everything the ``st run`` subprocess needs."""

    spec: Path
    base_url: str
    report_dir: Path
    max_examples: int
    seed: int | None
    phases: tuple[str, ...]
    workers: int
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    rate_limit: str | None = None
    request_timeout: float = 10.0
    #: Where Schemathesis (``.schemathesis``) and Hypothesis (``.hypothesis``) write their caches.
    cache_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: ``"positive"``: the coverage phase sends only its positive cases (a small budget).
    coverage_mode: str | None = None
    #: Checks left out (``--exclude-checks`` of the kit, and the opt-in ones).
    exclude_checks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # ``st run`` starts in the cache directory (see ``run``): every path must be absolute.
        self.spec = Path(self.spec).resolve()
        self.report_dir = Path(self.report_dir).resolve()
        self.cache_dir = Path(self.cache_dir or self.report_dir / "cache").resolve()

    @property
    def config_toml(self) -> str:
        """Schemathesis's configuration: fail on starved operations, caches in ``cache_dir``."""
        # A JSON string is a valid TOML basic string (quotes and backslashes escaped alike).
        directory = json.dumps(str(self.cache_dir / "schemathesis"))
        toml = f"{WARNINGS_TOML}\n[cache]\ndirectory = {directory}\n"
        if self.coverage_mode:
            toml += f"\n[phases.coverage.generation]\nmode = {json.dumps(self.coverage_mode)}\n"
        return toml

    @property
    def hypothesis_dir(self) -> Path:
        return self.cache_dir / "hypothesis"  # type: ignore[operator]

    # Schemathesis's own files, in a directory of their own (``schemathesis/`` of --report-dir).
    @property
    def ndjson(self) -> Path:
        return self.report_dir / "events.ndjson"

    @property
    def json_report(self) -> Path:
        return self.report_dir / "report.json"

    @property
    def junit(self) -> Path:
        return self.report_dir / "junit.xml"

    @property
    def output(self) -> Path:
        return self.report_dir / "output.txt"

    @property
    def config(self) -> Path:
        return self.report_dir / "schemathesis.toml"


def operation_filter_args(kind: str, values: tuple[str, ...]) -> list[str]:
    """``--include``/``--exclude`` values: an operationId, or a label like ``GET /v1/patients``."""
    args = []
    for value in values:
        if " " in value.strip():
            method, _, path = value.strip().partition(" ")
            args += [f"--{kind}-name", f"{method.upper()} {path.strip()}"]
        else:
            args += [f"--{kind}-operation-id", value.strip()]
    return args


def build_command(settings: StRunSettings) -> list[str]:
    """The ``st run`` command line (run with this Python, so the kit's hooks import)."""
    command = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(settings.config),
        "--no-color",
        "run", str(settings.spec),
        "--url", settings.base_url,
        "--checks", "all",
        "--max-examples", str(settings.max_examples),
        "--phases", ",".join(settings.phases),
        "--workers", str(settings.workers),
        "--request-timeout", str(settings.request_timeout),
        "--generation-database", "none",
        "--report", "junit,ndjson,json",
        "--report-junit-path", str(settings.junit),
        "--report-ndjson-path", str(settings.ndjson),
        "--report-json-path", str(settings.json_report),
    ]  # fmt: skip
    if settings.seed is not None:
        command += ["--seed", str(settings.seed)]
    if settings.rate_limit:
        command += ["--rate-limit", settings.rate_limit]
    if settings.exclude_checks:
        command += ["--exclude-checks", ",".join(settings.exclude_checks)]
    command += operation_filter_args("include", settings.include)
    command += operation_filter_args("exclude", settings.exclude)
    return command


@dataclass
class StRunOutcome:
    """What one ``st run`` found."""

    exit_code: int
    findings: list[Finding] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    cases: int = 0
    operations_tested: int = 0
    warnings: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    fatal: str | None = None
    seconds: float = 0.0
    #: (operation, check) -> [passed, failed] over every scenario.
    outcomes: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    #: Seconds the requests of each operation took (its test cases' real time).
    elapsed: dict[str, float] = field(default_factory=dict)

    @property
    def responses(self) -> int:
        return sum(self.statuses.values())


def run(settings: StRunSettings, parser: EventParser, poll: float = 0.2) -> StRunOutcome:
    """Run ``st run``, feeding its events to ``parser`` as they are written."""
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    settings.config.write_text(settings.config_toml, encoding="utf-8")
    settings.hypothesis_dir.mkdir(parents=True, exist_ok=True)
    for stale in (settings.ndjson, settings.json_report, settings.junit):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS_MODULE,
        "HYPOTHESIS_STORAGE_DIRECTORY": str(settings.hypothesis_dir),
        **settings.env,
    }
    started = time.monotonic()
    with open(settings.output, "wb") as output:
        # cwd: whatever either library still writes relative to it lands in the cache too.
        process = subprocess.Popen(
            build_command(settings), stdout=output, stderr=subprocess.STDOUT, env=env,
            cwd=settings.cache_dir,
        )  # fmt: skip
        offset = 0
        try:
            while True:
                done = process.poll() is not None
                offset = _tail(settings.ndjson, offset, parser)
                if done:
                    break
                time.sleep(poll)
        except BaseException:
            process.kill()
            process.wait()
            raise
    parser.feed("\n")  # a last line without its newline
    outcome = StRunOutcome(exit_code=process.returncode, seconds=time.monotonic() - started)
    outcome.findings, outcome.statuses = parser.findings, parser.statuses
    outcome.outcomes = parser.outcomes
    outcome.elapsed = parser.elapsed
    _read_json_report(settings, outcome)
    return outcome


def _tail(path: Path, offset: int, parser: EventParser) -> int:
    try:
        with open(path, encoding="utf-8") as stream:
            stream.seek(offset)
            chunk = stream.read()
            position = stream.tell()
    except FileNotFoundError:
        return offset
    parser.feed(chunk)
    return position


def _read_json_report(settings: StRunSettings, outcome: StRunOutcome) -> None:
    try:
        report = json.loads(settings.json_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    if report is None or not report.get("complete"):
        outcome.fatal = (
            _last_error_line(settings.output) or f"st run exited with {outcome.exit_code}"
        )
    if report is None:
        return
    outcome.cases = (report.get("test_cases") or {}).get("generated", 0)
    outcome.operations_tested = (report.get("operations") or {}).get("tested", 0)
    outcome.warnings = {k: v for k, v in (report.get("warnings") or {}).items() if v}
    outcome.errors = [f"{e['title']} (x{e['count']})" for e in report.get("errors") or []]


def _last_error_line(output: Path) -> str | None:
    """The most telling line of Schemathesis's own output, for a one-line reason."""
    try:
        lines = [
            line.strip()
            for line in output.read_text(encoding="utf-8", errors="replace").splitlines()
        ]
    except OSError:
        return None
    lines = [line for line in lines if line and not set(line) <= set("━─=_ ")]
    for line in lines:
        if line.lower().startswith(("error:", "usage:")) or "error" in line.lower():
            return line[:300]
    return lines[-1][:300] if lines else None
