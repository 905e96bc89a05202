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
