"""``pin-mock contract replay``: the failures a run recorded, re-sent and judged again."""

from __future__ import annotations

from click.testing import CliRunner

from kit_mutants import MUTANTS, Proxy
from kit_mutants_blind import BLIND_MUTANTS
from kit_servers import reset_sandbox, serve
from pin_mock.cli import main
from pin_mock.contract.output.har import read_har

CREDENTIALS = ["--client-id", "sandbox-enterprise", "--client-secret", "sandbox-enterprise-secret"]


def mutant(name: str):
    return next(m for m in [*MUTANTS, *BLIND_MUTANTS] if m.name == name)


def test_failures_replayed_against_the_fix_pass_and_against_the_bug_fail(
    sandbox_url, run_kit, tmp_path
) -> None:
    reset_sandbox(sandbox_url)
    with serve(Proxy(sandbox_url, mutant("wrong-field-types"))) as broken:
        result = run_kit(broken, include=("getPatient",), phases=("examples",))
        assert result.exit_code == 1
        cassette = tmp_path / "report" / "failures.har"
        assert {f.check for f in read_har(cassette)} == {"response_schema_conformance"}
        still = CliRunner().invoke(main, ["contract", "replay", str(cassette), *CREDENTIALS])
    assert still.exit_code == 1, still.output
    assert "FAILING  GET /v1/patients/{patient_id}  [response_schema_conformance]" in still.output
    fixed = CliRunner().invoke(
        main, ["contract", "replay", str(cassette), "--base-url", sandbox_url, *CREDENTIALS]
    )
    assert fixed.exit_code == 0, fixed.output
    assert "1 of 1 failures fixed" in fixed.output


def test_a_probe_s_failure_is_judged_by_running_the_probe_again(
    sandbox_url, run_kit, tmp_path
) -> None:
    reset_sandbox(sandbox_url)
    with serve(Proxy(sandbox_url, mutant("unknown-query-accepted"))) as broken:
        result = run_kit(broken, include=("listReports",), phases=("probes",))
        cassette = tmp_path / "report" / "failures.har"
        assert {f.probe for f in read_har(cassette)} == {
            "unknown query parameters are refused: GET /v1/reports"
        }
        still = CliRunner().invoke(main, ["contract", "replay", str(cassette), *CREDENTIALS])
    assert result.exit_code == 1 and still.exit_code == 1, still.output
    fixed = CliRunner().invoke(
        main, ["contract", "replay", str(cassette), "--base-url", sandbox_url, *CREDENTIALS]
    )
    assert fixed.exit_code == 0 and "run again" in fixed.output, fixed.output


def test_a_file_that_is_no_cassette_is_a_usage_problem(tmp_path) -> None:
    bad = tmp_path / "x.har"
    bad.write_text("{}")
    done = CliRunner().invoke(main, ["contract", "replay", str(bad)])
    assert done.exit_code == 2 and "is not a HAR file" in done.output
