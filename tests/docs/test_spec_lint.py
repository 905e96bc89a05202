"""Spectral and Redocly lint openapi/pin.yaml with every rule on: no error, no warning.

The rulesets are ``.spectral.yaml`` (``spectral:oas``) and ``redocly.yaml``
(``recommended``), at the repository's root where editors find them too; the
CLIs are the versions docs/package.json pins. Neither may ignore a problem:
a rule that does not fit is discussed in the spec, not silenced here.
"""

from __future__ import annotations

import json
import subprocess

from docs_node import ENV, ROOT, node_tool

SPEC = "openapi/pin.yaml"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=180, check=False
    )


def test_spectral_finds_nothing() -> None:
    done = _run(str(node_tool("spectral")), "lint", SPEC, "--format", "json", "--quiet")
    problems = json.loads(done.stdout or "[]")
    found = [f"{p['source'].rsplit('/', 1)[-1]}:{p['range']['start']['line'] + 1} {p['code']}: {p['message']} at {'.'.join(map(str, p['path']))}" for p in problems]  # fmt: skip
    assert found == [], "\n".join(found)
    assert done.returncode == 0, done.stderr


def test_redocly_finds_nothing() -> None:
    done = _run(str(node_tool("redocly")), "lint", SPEC, "--format", "json")
    report = json.loads(done.stdout[done.stdout.index("{") :])
    found = [
        f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
        for p in report["problems"]
    ]
    assert found == [], "\n".join(found)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}
    assert done.returncode == 0, done.stderr
