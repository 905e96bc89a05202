"""``examples/pytest_sandbox``, an app's own test suite, run as its authors would run it.

A subprocess in that directory (its own pytest.ini, no conftest.py): the
``pin_sandbox`` fixture must come from the installed pin-mock's entry point,
start a real sandbox and reset it between tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest_sandbox"


def test_the_example_suite_passes_with_the_installed_fixture() -> None:
    assert not (EXAMPLE / "conftest.py").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"^7 passed", done.stdout, re.MULTILINE), done.stdout[-2000:]
