"""The kit against a live sandbox on loopback: the full run, its reports, plain ``st run``, pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from xml.etree import ElementTree

import pytest

from kit_helpers import SEED, long_runs_enabled
from kit_mutants import MUTANTS, Proxy
from kit_servers import serve
from pin_mock.contract.output.summary import render
from pin_mock.contract.spec import bundled_spec_path

CREDENTIALS = {
    "PIN_CLIENT_ID": "sandbox-enterprise",
    "PIN_CLIENT_SECRET": "sandbox-enterprise-secret",
}


def mutant(name):
    return next(m for m in MUTANTS if m.name == name)


def test_the_unbroken_sandbox_honours_the_contract(sandbox_url, run_kit):
    result = run_kit(sandbox_url, second_client_id="sandbox-professional",
                     second_client_secret="sandbox-professional-secret")  # fmt: skip
    assert result.exit_code == 0, render(result)
    assert result.schemathesis.operations_tested == 18 and result.schemathesis.cases > 300
    assert all(not p.skipped for p in result.probes) and len(result.probes) >= 20


def test_wrong_credentials_are_a_usage_problem(sandbox_url, run_kit):
    result = run_kit(sandbox_url, client_secret="not-the-secret")
    assert (
        result.exit_code == 2
        and "refused client 'sandbox-enterprise' (invalid_client)" in result.reason
    )


def test_a_failing_run_writes_junit_and_the_failing_exchanges(sandbox_url, run_kit, tmp_path):
    with serve(Proxy(sandbox_url, mutant("search-ignored"))) as url:
        result = run_kit(
            url,
            include=("listPatients", "createPatient", "getPatient"),
            phases=("examples", "probes"),
        )
    assert result.exit_code == 1
    report = tmp_path / "report"
    suites = {s.get("name"): s for s in ElementTree.parse(report / "junit.xml").getroot()}
    assert set(suites) == {"schemathesis", "pin-contract-probes"}
    # One test case per operation and check (Schemathesis: classname = operation; probes:
    # classname = probe, name = "operation check").
    failing = [
        case.find("failure")
        for suite in suites.values()
        for case in suite.iter("testcase")
        if case.find("failure") is not None
        and f"{case.get('classname')} {case.get('name')}".endswith(
            "GET /v1/patients pin_search_filter"
        )
    ]
    assert failing and "pin_search_filter" in failing[0].text
    entries = json.loads((report / "failures.har").read_text())["log"]["entries"]
    assert entries and all(e["response"]["status"] for e in entries)
    assert any("search=" in e["request"]["url"] for e in entries)
    assert "sandbox-enterprise-secret" not in (report / "failures.har").read_text()
    assert "curl -i -X GET" in (report / "summary.txt").read_text()
    assert " in 0.0 s" not in (report / "summary.txt").read_text()  # the real duration


def test_the_checks_also_run_under_plain_st_run(sandbox_url, tmp_path):
    """SCHEMATHESIS_HOOKS=pin_mock.contract.hooks gives Schemathesis's own CLI the PIN checks and tokens."""
    with serve(Proxy(sandbox_url, mutant("reset-as-seconds"))) as url:
        command = [sys.executable, "-m", "schemathesis.cli", "run", str(bundled_spec_path()), "--url", url,
                   "--include-operation-id", "listPatients", "--phases", "coverage", "--checks", "all",
                   "--seed", str(SEED), "--generation-database", "none", "--no-color"]  # fmt: skip
        env = {**os.environ, **CREDENTIALS, "SCHEMATHESIS_HOOKS": "pin_mock.contract.hooks"}
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )
    assert done.returncode == 1, done.stdout
    assert "pin_rate_limit_headers" in done.stdout and "is in the past" in done.stdout
    assert "401" not in done.stdout.split("FAILURES")[-1]  # the auth provider supplied tokens


def run_pytest(tmp_path, *args):
    (tmp_path / "test_own.py").write_text("def test_own_suite_still_runs():\n    assert True\n")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tmp_path),
        str(tmp_path),
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)


def test_pytest_plugin_does_nothing_without_a_base_url(tmp_path):
    done = run_pytest(tmp_path, "--collect-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 test collected" in done.stdout and "pin_contract" not in done.stdout


def test_pytest_plugin_adds_the_contract_tests(sandbox_url, tmp_path):
    done = run_pytest(
        tmp_path, "--pin-base-url", sandbox_url, "--pin-client-id", "sandbox-enterprise",
        "--pin-client-secret", "sandbox-enterprise-secret", "--pin-max-examples", "3", "--pin-seed", str(SEED),
        "-k", "own_suite or patients] or probe",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 20, summary


def test_pytest_plugin_fails_a_broken_implementation(sandbox_url, tmp_path):
    with serve(Proxy(sandbox_url, mutant("ignored-auth"))) as url:
        done = run_pytest(
            tmp_path, "--pin-base-url", url, "-k", "auth and enforced and patients and not clinical"
        )
    assert done.returncode == 1
    assert "pin_auth_enforced" in done.stdout and "instead of 401" in done.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    not long_runs_enabled(), reason="long run: set PIN_MOCK_LONG=1 (make contract-long)"
)
def test_a_long_run_against_the_sandbox_passes(sandbox_url, run_kit, capsys):
    result = run_kit(sandbox_url, max_examples=50, workers=2)
    with capsys.disabled():
        print(textwrap.indent(render(result), "    "))
    assert result.exit_code == 0, render(result)
