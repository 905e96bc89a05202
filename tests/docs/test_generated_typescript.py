"""TypeScript types generated with openapi-typescript's defaults, checked by ``tsc --strict``.

The contract goes to ``openapi-typescript`` (no options; the version
docs/package.json pins), then a file typing the guide's request bodies, every
operation's request example and every documented answer with the generated
types is compiled with ``tsc --strict --noEmit``: object literals, so a
missing required field, an unknown one, a wrong enum value or a null where
the types say none fails the compile. A control file with one wrong value
must fail, so the check can fail.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from docs_node import ENV, ROOT, node_tool
from generated_types import CONTRACT, Typed, answers, guide_bodies, request_examples

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "ES2022",
        "module": "ESNext",
        "moduleResolution": "Bundler",
        "lib": ["ES2022"],
        "types": [],
    }
}


def _typed_file(values: list[Typed]) -> str:
    lines = ['import type { components } from "./schema";', 'type S = components["schemas"];']
    for number, typed in enumerate(values):
        lines.append(f"// {typed.label}")
        lines.append(f'export const v{number}: S["{typed.schema}"] = {json.dumps(typed.value)};')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("typescript")
    (work / "openapi.json").write_text(json.dumps(CONTRACT, default=str))
    done = subprocess.run(
        [str(node_tool("openapi-typescript")), str(work / "openapi.json"), "--output", str(work / "schema.d.ts")],
        capture_output=True, text=True, timeout=300, check=False, cwd=work, env=ENV,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return work, done.stdout + done.stderr


def _compile(work: Path, name: str, values: list[Typed]) -> subprocess.CompletedProcess[str]:
    (work / f"{name}.ts").write_text(_typed_file(values))
    (work / f"tsconfig.{name}.json").write_text(json.dumps({**TSCONFIG, "files": [f"{name}.ts"]}))
    return subprocess.run(
        [str(node_tool("tsc")), "-p", str(work / f"tsconfig.{name}.json")],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT, env=ENV,
    )  # fmt: skip


def test_generation_warns_of_nothing(generated: tuple[Path, str]) -> None:
    _, output = generated
    assert "warn" not in output.lower() and "error" not in output.lower(), output


def test_strict_tsc_takes_the_guides_bodies_and_every_answer(generated: tuple[Path, str]) -> None:
    work, _ = generated
    values = guide_bodies() + request_examples() + answers()
    assert len(guide_bodies()) >= 3 and len(values) >= 150
    done = _compile(work, "answers", values)
    assert done.returncode == 0, done.stdout + done.stderr


def test_strict_tsc_refuses_a_wrong_answer(generated: tuple[Path, str]) -> None:
    work, _ = generated
    report = next(t for t in answers() if t.schema == "Report")
    wrong = [
        Typed("bad status", "Report", {**report.value, "status": "exploded"}),
        Typed("no interval is fine, a wrong one is not", "ReportCreate", {"type": "outcomes", "format": "pdf", "parameters": {"interval": "year"}}),
    ]  # fmt: skip
    done = _compile(work, "wrong", wrong)
    assert done.returncode != 0
    assert done.stdout.count("error TS") == 2, done.stdout
