"""The runner's decisions without a target: options, pacing, selection, progress, command line."""

from __future__ import annotations

import io
import socket

import pytest
from click.testing import CliRunner

from pin_mock.contract.command import contract
from pin_mock.contract.findings import Finding
from pin_mock.contract.output.progress import PlainProgress, TtyProgress, choose_progress
from pin_mock.contract.runner import (
    ContractOptions,
    UsageProblem,
    choose_pace,
    parse_rate,
    run_contract,
    select_operations,
)
from pin_mock.contract.schemathesis_run import StRunSettings, build_command
from pin_mock.contract.spec import bundled_spec_path, load_spec, operations

OPS = operations(load_spec(bundled_spec_path()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10/s", (10.0, "10/s")),
        ("600/m", (10.0, "600/m")),
        ("5", (5.0, "5/s")),
        ("0.5/s", (0.5, "1/s")),
    ],
)
def test_rate_limit_values(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["fast", "0/s", "10/d", "-1"])
def test_bad_rate_limit_values_are_usage_problems(value):
    with pytest.raises(UsageProblem, match="--rate-limit"):
        parse_rate(value)


def test_pacing_only_when_the_budget_is_short_and_the_window_too():
    assert choose_pace(remaining=10_000, seconds_to_reset=3600, estimate=2_000) is None
    assert choose_pace(remaining=None, seconds_to_reset=None, estimate=2_000) is None
    # Never an hour at 0.25 requests/s: the plan shrinks instead (test_kit_budget.py).
    assert choose_pace(remaining=900, seconds_to_reset=3600, estimate=2_000) is None
    assert choose_pace(remaining=90, seconds_to_reset=60, estimate=200) == pytest.approx(1.5)


def test_include_and_exclude_take_operation_ids_or_labels():
    chosen = select_operations(OPS, ("listPatients", "GET /v1/reports"), ())
    assert [op.operation_id for op in chosen] == ["listPatients", "listReports"]
    rest = select_operations(OPS, (), ("issueToken",))
    assert len(rest) == len(OPS) - 1
    with pytest.raises(
        UsageProblem, match="no operation of the spec matches --include/--exclude 'listPets'"
    ):
        select_operations(OPS, ("listPets",), ())


def test_schemathesis_command_carries_the_options(tmp_path):
    settings = StRunSettings(spec=bundled_spec_path(), base_url="http://t", report_dir=tmp_path, max_examples=7, seed=3,
                             phases=("examples", "stateful"), workers=2, include=("listPatients", "GET /v1/reports"),
                             rate_limit="20/s")  # fmt: skip
    command = build_command(settings)
    joined = " ".join(command)
    for part in ("--url http://t", "--checks all", "--max-examples 7", "--seed 3", "--phases examples,stateful",
                 "--workers 2", "--rate-limit 20/s", "--include-operation-id listPatients", "--generation-database none"):  # fmt: skip
        assert part in joined
    assert command[command.index("--include-name") + 1] == "GET /v1/reports"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"base_url": "localhost:8080"}, "--base-url must be an http(s) URL"),
        ({"phases": ("examples", "chaos")}, "--phases takes"),
        ({"max_examples": 0}, "--max-examples"),
        ({"workers": 0}, "--workers"),
        ({"client_id": "only-the-id"}, "give both --client-id and --client-secret"),
        ({"rate_limit": "lots"}, "--rate-limit"),
        ({"include": ("nope",)}, "no operation of the spec matches"),
        ({"spec": "/nonexistent/pin.yaml"}, "OpenAPI spec not found"),
    ],
)
def test_usage_problems_exit_2_with_a_reason(overrides, expected):
    result = run_contract(ContractOptions(**{"base_url": "http://127.0.0.1:9", **overrides}))
    assert result.exit_code == 2 and expected in result.reason


def test_an_unreachable_target_exits_2():
    result = run_contract(
        ContractOptions(base_url=f"http://127.0.0.1:{free_port()}", request_timeout=2)
    )
    assert result.exit_code == 2 and result.reason.startswith("cannot reach http://127.0.0.1:")


def test_command_prints_one_line_for_a_usage_problem():
    outcome = CliRunner().invoke(
        contract, ["--base-url", f"http://127.0.0.1:{free_port()}", "--request-timeout", "2"]
    )
    assert outcome.exit_code == 2
    assert outcome.output.startswith("Error: cannot reach") and outcome.output.count("\n") == 1
    assert "Traceback" not in outcome.output


def test_command_reads_credentials_from_the_environment(monkeypatch):
    captured = {}
    monkeypatch.setattr(
        "pin_mock.contract.runner.run_contract",
        lambda opts, progress: captured.setdefault("o", opts) and None or _exit0(),
    )
    monkeypatch.setenv("PIN_CLIENT_ID", "env-id")
    monkeypatch.setenv("PIN_CLIENT_SECRET", "env-secret")
    outcome = CliRunner().invoke(
        contract,
        ["--base-url", "http://t", "--phases", "probes,examples", "--include", "listPatients"],
    )
    options = captured["o"]
    assert outcome.exit_code == 0
    assert (options.client_id, options.client_secret) == ("env-id", "env-secret")
    assert options.phases == ("probes", "examples") and options.include == ("listPatients",)


def _exit0():
    from pin_mock.contract.runner import ContractResult

    return ContractResult(0, "fine", base_url="http://t")


def test_command_rejects_unknown_phases():
    outcome = CliRunner().invoke(contract, ["--base-url", "http://t", "--phases", "warp"])
    assert outcome.exit_code == 2 and "choose from examples" in outcome.output


def test_plain_progress_writes_lines_for_ci():
    stream = io.StringIO()
    progress = PlainProgress(stream)
    progress.event("PhaseStarted", {"phase": {"name": "fuzzing"}}, [])
    finding = Finding("GET /v1/patients", "pin_paging", "x")
    progress.event("ScenarioFinished", {}, [finding, finding])
    progress.probe("paging walk", 0, None)
    assert stream.getvalue().splitlines() == [
        "phase  fuzzing ...",
        "FAIL   GET /v1/patients: pin_paging",
        "probe  paging walk: ok",
    ]


def test_tty_progress_rewrites_one_status_line():
    stream = io.StringIO()
    progress = TtyProgress(stream)
    progress.event("PhaseStarted", {"phase": {"name": "coverage"}}, [])
    progress.close()
    assert "\r\033[2K  coverage" in stream.getvalue()


def test_progress_is_plain_when_not_a_terminal_or_in_ci(monkeypatch):
    assert type(choose_progress(io.StringIO())) is PlainProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert type(choose_progress(Terminal())) is TtyProgress
    monkeypatch.setenv("CI", "true")
    assert type(choose_progress(Terminal())) is PlainProgress


def test_a_fitted_plan_reaches_schemathesis(tmp_path):
    """Fewer examples go on the command line; coverage's positive-only mode into its config."""
    settings = StRunSettings(spec=bundled_spec_path(), base_url="http://t", report_dir=tmp_path, max_examples=4,
                             seed=None, phases=("examples", "coverage"), workers=1, coverage_mode="positive")  # fmt: skip
    assert "--max-examples 4" in " ".join(build_command(settings))
    assert '[phases.coverage.generation]\nmode = "positive"' in settings.config_toml
    whole = StRunSettings(spec=bundled_spec_path(), base_url="http://t", report_dir=tmp_path,
                          max_examples=10, seed=None, phases=("coverage",), workers=1)  # fmt: skip
    assert "phases.coverage" not in whole.config_toml
