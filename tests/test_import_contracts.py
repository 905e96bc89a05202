"""The import-linter contracts of ``pyproject.toml`` hold, and they fail on an upward import.

``make check`` and ``make test`` run ``lint-imports`` itself; this test shows the
contracts have teeth: on a copy of the source with one planted import that goes
up a layer (the store, in the domain, importing a handler module), or that
reaches an engine from outside the state package, ``lint-imports`` fails and
names the contract and the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the ``src`` of ``tree`` with its ``pyproject.toml``."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tree,
        env=env,
        timeout=120,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The source and the contracts, copied: a tree to plant imports in."""
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / "src" / Path(*module.split(".")).with_suffix(".py")
    text = path.read_text(encoding="utf-8")
    marker = "from __future__ import annotations\n"
    path.write_text(text.replace(marker, marker + line + "\n", 1), encoding="utf-8")


def test_the_contracts_hold_on_the_source(copy: Path) -> None:
    done = lint_imports(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_the_layers(copy: Path) -> None:
    plant(copy, "pin_mock.server.domain.store", "import pin_mock.server.handlers.patients")
    done = lint_imports(copy)
    assert done.returncode == 1
    assert "The server's layers: imports only go down BROKEN" in done.stdout
    assert "pin_mock.server.domain.store -> pin_mock.server.handlers.patients" in done.stdout


def test_an_engine_imported_outside_state_breaks_its_contract(copy: Path) -> None:
    plant(
        copy, "pin_mock.server.background.report_jobs", "import pin_mock.server.state.redis.queue"
    )
    done = lint_imports(copy)
    assert done.returncode == 1
    assert "Engines only behind ports" in done.stdout and "BROKEN" in done.stdout


def test_the_kit_importing_the_server_breaks_its_independence(copy: Path) -> None:
    plant(copy, "pin_mock.contract.runner", "import pin_mock.server.errors")
    done = lint_imports(copy)
    assert done.returncode == 1
    assert "The kit imports nothing from the server" in done.stdout and "BROKEN" in done.stdout


def test_the_test_session_sandbox_reaching_into_the_server_breaks_its_contract(
    copy: Path,
) -> None:
    plant(copy, "pin_mock.testing.session", "import pin_mock.server.domain.store")
    done = lint_imports(copy)
    assert done.returncode == 1
    assert "The test session's sandbox reaches the server only through its entry points BROKEN" in done.stdout  # fmt: skip
