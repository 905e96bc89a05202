"""The Node tools that docs/package.json pins (Redocly CLI, Spectral), for the docs tests.

``make test`` installs them first (``npm ci --prefix docs``). Elsewhere a test that
needs one is skipped, saying what to run; under CI (``CI`` set) it fails instead,
so a CI run can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "docs" / "node_modules" / ".bin"
# No usage reports, update checks or colours from the CLIs.
ENV = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
ENV["NO_COLOR"] = "1"


def unavailable(message: str) -> NoReturn:
    """Skip (a developer's machine) or fail (CI) for a missing tool."""
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must install it: `make test` does)")
    pytest.skip(message)


def node_tool(name: str) -> Path:
    """The path of a pinned docs tool, or skip/fail saying how to install it."""
    path = BIN / name
    if not path.exists():
        unavailable(f"{name} is not installed: run `make docs` (npm ci --prefix docs)")
    return path


def node() -> str:
    """The ``node`` executable, or skip/fail."""
    found = shutil.which("node")
    if found is None:
        unavailable("node is not on PATH (Node.js 20 or later)")
    return found
