"""Spectral and Redocly lint both documents with every rule on: no error, no warning.

The documents are PIN's contract (``openapi/pin.yaml``) and the sandbox's view
of it (the contract plus ``openapi/*.overlay.yaml``, written out the way
``make spec-lint`` does). The rulesets are ``.spectral.yaml`` (``spectral:oas``)
and ``redocly.yaml`` (``recommended``), at the repository's root where editors
find them too; the CLIs are the versions docs/package.json pins. Neither may
ignore a problem: a rule that does not fit is discussed in the spec, not
silenced here.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from docs_node import ENV, ROOT, node_tool

from pin_mock import overlays

CONTRACT = ROOT / "openapi" / "pin.yaml"


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("view") / "sandbox.json"
    assert overlays.main([str(path), "--spec", str(CONTRACT)]) == 0
    return path


@pytest.fixture(params=["contract", "view"])
def document(request: pytest.FixtureRequest) -> Path:
    return CONTRACT if request.param == "contract" else request.getfixturevalue("view")


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=180, check=False
    )


def test_spectral_finds_nothing(document: Path) -> None:
    done = _run(str(node_tool("spectral")), "lint", str(document), "--format", "json", "--quiet")
    problems = json.loads(done.stdout or "[]")
    found = [f"{p['source'].rsplit('/', 1)[-1]}:{p['range']['start']['line'] + 1} {p['code']}: {p['message']} at {'.'.join(map(str, p['path']))}" for p in problems]  # fmt: skip
    assert found == [], "\n".join(found)
    assert done.returncode == 0, done.stderr


def test_redocly_finds_nothing(document: Path) -> None:
    done = _run(str(node_tool("redocly")), "lint", str(document), "--format", "json")
    report = json.loads(done.stdout[done.stdout.index("{") :])
    found = [
        f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
        for p in report["problems"]
    ]
    assert found == [], "\n".join(found)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}
    assert done.returncode == 0, done.stderr
