"""A three-operation implementation (``examples/partial_implementation``): the kit judges what is there.

Its report shows 3 operations tested and 15 not implemented, and only real
findings: none for the app as written, exactly the planted defect with
``PARTIAL_BUG=search``. The same with the pytest plugin.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit_helpers import SEED
from kit_servers import serve
from pin_mock.contract.output.summary import render

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partial_implementation" / "app.py"
CLIENT = {"client_id": "partial-client", "client_secret": "partial-secret"}


@pytest.fixture(scope="module")
def partial_url() -> Iterator[str]:
    spec = importlib.util.spec_from_file_location("partial_implementation_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with serve(module.app) as url:
        yield url


def test_three_operations_tested_fifteen_not_implemented_no_false_finding(
    partial_url, run_kit
) -> None:
    result = run_kit(partial_url, **CLIENT)
    assert result.exit_code == 0, render(result)
    assert len(result.not_implemented) == 15
    states = [row.state for row in result.coverage.rows]
    assert states.count("tested") == 3 and states.count("not implemented") == 15
    assert result.schemathesis.operations_tested == 3
    assert "not implemented (15, not tested" in render(result)


def test_the_planted_defect_is_the_only_finding(partial_url, run_kit, monkeypatch) -> None:
    monkeypatch.setenv("PARTIAL_BUG", "search")
    result = run_kit(partial_url, **CLIENT)
    assert result.exit_code == 1
    assert {f.check for f in result.findings} == {"pin_search_case"}, render(result)
    assert {f.operation for f in result.findings} == {"GET /v1/patients"}


def test_the_pytest_plugin_says_the_same(partial_url, tmp_path) -> None:
    (tmp_path / "test_own.py").write_text("def test_own_suite():\n    assert True\n")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path), "-q",
               "-rs", "--pin-base-url", partial_url, "--pin-client-id", "partial-client", "--pin-client-secret",
               "partial-secret", "--pin-max-examples", "3", "--pin-seed", str(SEED)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    skipped = [
        line
        for line in done.stdout.splitlines()
        if "not implemented:" in line and "answered only" in line
    ]
    assert len(skipped) == 15, skipped
    assert not (tmp_path / ".hypothesis").exists()
