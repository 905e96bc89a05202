"""Run ``st run`` in a subprocess and read what it found from its NDJSON event stream.

The subprocess and its report files are Schemathesis's public, stable surface
(``schemathesis.engine`` is not public API). The NDJSON stream carries every
scenario with its checks and exchanges, so it gives the live progress, the
failing exchanges (for the HAR file and the curl reproductions) and the count
of 429 answers; the JSON report gives the verdict's totals and warnings.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pin_mock.contract.findings import Finding, RecordedRequest, RecordedResponse
from pin_mock.contract.spec import Spec

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

    @property
    def ndjson(self) -> Path:
        return self.report_dir / "schemathesis-events.ndjson"

    @property
    def json_report(self) -> Path:
        return self.report_dir / "schemathesis-report.json"

    @property
    def junit(self) -> Path:
        return self.report_dir / "schemathesis-junit.xml"

    @property
    def output(self) -> Path:
        return self.report_dir / "schemathesis-output.txt"


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
        "--config-file", str(settings.report_dir / "schemathesis.toml"),
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

    @property
    def responses(self) -> int:
        return sum(self.statuses.values())


class EventParser:
    """Accumulates findings and status counts from NDJSON events; calls ``on_event``."""

    def __init__(
        self,
        on_event: Callable[[str, dict[str, Any], list[Finding]], None] | None = None,
        spec: Spec | None = None,
    ):
        self.findings: list[Finding] = []
        self.statuses: Counter = Counter()
        #: (operation, check) -> [passed, failed]: one JUnit test case each.
        self.outcomes: dict[tuple[str, str], list[int]] = {}
        self.on_event = on_event
        self.spec = spec
        self._buffer = ""

    def feed(self, text: str) -> None:
        """Feed a chunk of the stream (may end mid-line)."""
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if line.strip():
                self.handle(json.loads(line))

    def handle(self, event: dict[str, Any]) -> None:
        (name, payload), *_ = event.items()
        new: list[Finding] = []
        if name == "ScenarioFinished":
            new = list(self._scenario(payload.get("recorder") or {}))
            self.findings.extend(new)
        if self.on_event is not None:
            self.on_event(name, payload, new)

    def _scenario(self, recorder: dict[str, Any]) -> Iterator[Finding]:
        interactions = recorder.get("interactions") or {}
        for interaction in interactions.values():
            response = interaction.get("response")
            if isinstance(response, dict) and "status_code" in response:
                self.statuses[response["status_code"]] += 1
        cases = recorder.get("cases") or {}
        for case_id, checks in (recorder.get("checks") or {}).items():
            interaction = interactions.get(case_id) or {}
            value = (cases.get(case_id) or {}).get("value") or {}
            planned = (
                f"{value['method'].upper()} {value['path']}"
                if value.get("method") and value.get("path")
                else recorder.get("label", "?")
            )
            label = self.label(planned, interaction.get("request"))
            for check in checks:
                name = check.get("name", "?")
                outcome = self.outcomes.setdefault((label, name), [0, 0])
                if check.get("status") != "failure":
                    outcome[0] += check.get("status") == "success"
                    continue
                outcome[1] += 1
                failure = (check.get("failure_info") or {}).get("failure") or {}
                yield Finding(
                    operation=self.label(
                        failure.get("operation") or label, interaction.get("request")
                    ),
                    check=check.get("name", "?"),
                    message=failure.get("message") or failure.get("title") or "",
                    request=_request(interaction.get("request")),
                    response=_response(interaction.get("response")),
                    code=failure.get("code"),
                    case_id=case_id,
                )

    def label(self, operation: str, request: Any) -> str:
        """The operation the request really reached, by its method and URL path.

        A stateful step that followed a wrong ``Location`` never reached the
        operation Schemathesis names: the label is then the operation whose
        template the path matches, or the raw ``METHOD /path``.
        """
        if self.spec is None or not isinstance(request, dict) or not request.get("uri"):
            return operation
        method = str(request.get("method") or "GET").upper()
        path = urlsplit(str(request["uri"])).path or "/"
        if _matches(operation, method, path):
            return operation
        candidates = [op.label for op in self.spec.operations if _matches(op.label, method, path)]
        if candidates:  # the most literal template (fewest parameters) wins
            return min(candidates, key=lambda label: label.count("{"))
        return f"{method} {path}"


def _matches(label: str, method: str, path: str) -> bool:
    wanted, _, template = label.partition(" ")
    if wanted.upper() != method or not template.startswith("/"):
        return False
    pattern = re.sub(r"\\{[^}/]+\\}", "[^/]+", re.escape(template))
    return re.search(f"{pattern}$", path) is not None


def _bytes(value: Any) -> bytes | None:
    if isinstance(value, dict) and "$base64" in value:
        return base64.b64decode(value["$base64"])
    if isinstance(value, str):
        return value.encode()
    return None


def _request(raw: Any) -> RecordedRequest | None:
    if not isinstance(raw, dict):
        return None
    return RecordedRequest.build(
        raw.get("method", "GET"),
        raw.get("uri", ""),
        raw.get("headers") or {},
        _bytes(raw.get("body")),
    )


def _response(raw: Any) -> RecordedResponse | None:
    if not isinstance(raw, dict) or "status_code" not in raw:
        return None
    headers = {
        k.lower(): (v if isinstance(v, list) else [v])
        for k, v in (raw.get("headers") or {}).items()
    }
    return RecordedResponse.build(
        raw["status_code"], headers, _bytes(raw.get("content")) or b"", raw.get("elapsed") or 0.0
    )


def run(settings: StRunSettings, parser: EventParser, poll: float = 0.2) -> StRunOutcome:
    """Run ``st run``, feeding its events to ``parser`` as they are written."""
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    (settings.report_dir / "schemathesis.toml").write_text(settings.config_toml, encoding="utf-8")
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
