"""The GitHub Actions examples: they pass actionlint, and the worked one runs on this machine.

``examples/github-actions/contract.yml`` checks out, installs, starts the
service (the sandbox), waits for it, runs the kit and uploads the reports. Its
``run:`` steps are run here in order, as a runner would (``uses:`` steps and
the install are the runner's: this checkout is installed already), with the
service on a free port. The README's workflow is linted too.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kit_helpers import long_runs_enabled

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "contract.yml"
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which(
    "actionlint"
)


def readme_workflows() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [block for block in blocks if "jobs:" in block]


@pytest.mark.skipif(
    ACTIONLINT is None, reason="actionlint is not installed (pip install -e '.[test]')"
)
def test_the_workflows_pass_actionlint(tmp_path) -> None:
    files = [WORKFLOW]
    for number, block in enumerate(readme_workflows()):
        path = tmp_path / ".github" / "workflows" / f"readme-{number}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block)
        files.append(path)
    assert len(files) >= 2, "the README shows a workflow"
    done = subprocess.run(
        [ACTIONLINT, "-no-color", *map(str, files)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(
    not long_runs_enabled(), reason="long run: set PIN_MOCK_LONG=1 (make contract-long)"
)
def test_the_worked_workflow_runs_its_steps_here(tmp_path) -> None:
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["contract"]
    port = str(free_port())
    summary = tmp_path / "step-summary.md"
    env = {**os.environ, **{k: str(v) for k, v in job["env"].items()}, "PORT": port,
           "BASE_URL": f"http://127.0.0.1:{port}", "GITHUB_STEP_SUMMARY": str(summary),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    failed = False
    for step in job["steps"]:
        if "run" not in step or step.get("name", "").startswith("Install"):
            continue  # the runner's own actions; this checkout is installed already
        if failed and step.get("if") != "always()":
            continue
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        failed = failed or done.returncode != 0
        assert done.returncode == 0, f"{step['name']}: {done.stdout[-3000:]}{done.stderr[-2000:]}"
    assert (tmp_path / "contract-report" / "junit.xml").exists()
    assert "## PIN contract coverage" in summary.read_text()
