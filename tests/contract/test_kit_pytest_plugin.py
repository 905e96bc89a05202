"""The pytest plugin: one test id per operation, selectable with -k, honest progress and JUnit."""

from __future__ import annotations

import subprocess
import sys
from xml.etree import ElementTree

from kit_helpers import SEED
from pin_mock.contract.spec import bundled_spec_path, load_spec, operations

OPERATION_IDS = [op.operation_id for op in operations(load_spec(bundled_spec_path()))]


def pytest_run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_own.py").write_text("def test_own_suite():\n    assert True\n")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path), *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)


def test_one_test_id_per_operation(sandbox_url, tmp_path):
    done = pytest_run(tmp_path, "--collect-only", "-q", "--pin-base-url", sandbox_url)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    ids = [line for line in done.stdout.splitlines() if line.startswith("pin_contract::")]
    contract = [i for i in ids if i.startswith("pin_contract::test_pin_contract[")]
    assert sorted(contract) == sorted(
        f"pin_contract::test_pin_contract[{o}]" for o in OPERATION_IDS
    )
    assert len(ids) == len(set(ids)), "two tests share an id"


def test_k_selects_one_operation(sandbox_url, tmp_path):
    done = pytest_run(
        tmp_path, "--collect-only", "-q", "--pin-base-url", sandbox_url, "-k", "listPatients"
    )
    selected = [line for line in done.stdout.splitlines() if line.startswith("pin_contract::")]
    assert "pin_contract::test_pin_contract[listPatients]" in selected
    assert not any("test_pin_contract[" in s and "listPatients" not in s for s in selected)


def test_progress_reaches_100_percent_and_junit_tells_operations_apart(sandbox_url, tmp_path):
    junit = tmp_path / "junit.xml"
    done = pytest_run(
        tmp_path, "--pin-base-url", sandbox_url, "--pin-client-id", "sandbox-enterprise",
        "--pin-client-secret", "sandbox-enterprise-secret", "--pin-max-examples", "2",
        "--pin-seed", str(SEED), "-k", "test_own_suite or listPatients or getPatient or listReports",
        f"--junitxml={junit}",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    progress = [line for line in done.stdout.splitlines() if line.rstrip().endswith("%]")]
    assert progress and progress[-1].rstrip().endswith("[100%]"), progress
    cases = {c.get("name") for c in ElementTree.parse(junit).getroot().iter("testcase")}
    for operation_id in ("listPatients", "getPatient", "listReports"):
        assert f"test_pin_contract[{operation_id}]" in cases, cases


def test_an_unreachable_target_is_one_clear_failure_and_the_rest_of_the_suite_runs(tmp_path):
    done = pytest_run(tmp_path, "-q", "--pin-base-url", "http://127.0.0.1:9")
    assert done.returncode == 1, done.stdout[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("1 failed, 1 passed"), summary  # the project's own test passed
    assert "cannot test http://127.0.0.1:9: ConnectError" in done.stdout
    assert "Traceback" not in done.stdout and "Error during collection" not in done.stdout
    assert not (tmp_path / ".hypothesis").exists() and not (tmp_path / ".schemathesis").exists()


def test_a_printed_node_id_runs_again_as_given(sandbox_url, tmp_path):
    node = "pin_contract::test_pin_contract[getPatient]"
    probe = (
        "pin_contract::test_pin_probe[unknown ids are 404 NOT_FOUND: GET /v1/patients/{patient_id}]"
    )
    (tmp_path / "test_own.py").write_text("def test_own_suite():\n    assert True\n")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-v",
               "--pin-base-url", sandbox_url, "--pin-max-examples", "2", node, probe]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    ran = [line.split(" PASSED")[0] for line in done.stdout.splitlines() if " PASSED" in line]
    assert ran == [probe, node]  # the probe first; nothing else of the project or the kit


def test_plugin_options_select_operations_phases_and_checks(sandbox_url, tmp_path):
    done = pytest_run(tmp_path, "--collect-only", "-q", "--pin-base-url", sandbox_url, "--pin-include-tag", "Reports",
                      "--pin-exclude-method", "POST", "--pin-phases", "examples,probes",
                      "--pin-exclude-checks", "pin_paging")  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    contract = sorted(
        line
        for line in done.stdout.splitlines()
        if line.startswith("pin_contract::test_pin_contract[")
    )
    assert contract == [
        f"pin_contract::test_pin_contract[{o}]"
        for o in ("downloadReport", "getReport", "listReports")
    ]
    assert any(
        "unknown query parameters are refused: GET /v1/reports]" in line
        for line in done.stdout.splitlines()
    )
    assert not any("GET /v1/patients]" in line for line in done.stdout.splitlines())
    bad = pytest_run(
        tmp_path,
        "--collect-only",
        "-q",
        "--pin-base-url",
        sandbox_url,
        "--pin-checks",
        "pin_nonsense",
    )
    assert bad.returncode != 0 and "unknown check pin_nonsense" in bad.stdout + bad.stderr


def test_the_stateful_test_passes_a_moving_sandbox_and_fails_a_broken_one(sandbox_url, tmp_path):
    """Links followed over a live sandbox; a check's finding is the failure, never Hypothesis's flakiness."""
    from kit_mutants import MUTANTS, Proxy
    from kit_servers import serve

    chain = ("--pin-phases", "stateful", "--pin-include", "createPatient", "--pin-include", "getPatient",
             "--pin-max-examples", "3")  # fmt: skip
    done = pytest_run(tmp_path, "-q", "--pin-base-url", sandbox_url, *chain)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Flaky" not in done.stdout
    forgetful = next(m for m in MUTANTS if m.name == "created-not-stored")
    with serve(Proxy(sandbox_url, forgetful)) as url:
        broken = pytest_run(tmp_path, "-q", "--pin-base-url", url, *chain)
    assert broken.returncode == 1, broken.stdout[-4000:]
    assert "FAILED pin_contract::test_pin_stateful" in broken.stdout, broken.stdout[-4000:]
    summary = next(line for line in broken.stdout.splitlines() if line.startswith("FAILED"))
    assert "Flaky" not in summary, broken.stdout[-4000:]
    assert "Created resource not found" in broken.stdout, broken.stdout[-4000:]
