"""The wheel carries the built API reference, so every install serves ``/reference``.

A Hatch build hook: when the wheel is built (not for an editable install,
which serves the page ``make docs`` writes into ``build/reference/``), it runs
``docs/build_reference.py`` and puts the page into the wheel as
``pin_mock/_data/reference/index.html`` (``pin_mock._bundled.reference_page``).
Building a wheel therefore needs Node.js 20+ and npm (the pinned Redocly CLI in
``docs/node_modules``, installed here with ``npm ci`` if it is not there yet);
installing or running one does not. ``PIN_MOCK_WHEEL_WITHOUT_REFERENCE=1``
builds a wheel without the page (its ``/reference`` then says so).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PAGE = "pin_mock/_data/reference/index.html"


class ReferenceBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get("PIN_MOCK_WHEEL_WITHOUT_REFERENCE") == "1":
            self.app.display_warning("pin-mock: building the wheel without the API reference")
            return
        root = Path(self.root)
        if not (root / "docs" / "node_modules" / ".bin" / "redocly").exists():
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError(
                    "building pin-mock's wheel renders the API reference, which needs Node.js 20+ "
                    "and npm (or set PIN_MOCK_WHEEL_WITHOUT_REFERENCE=1 to leave it out)"
                )
            subprocess.run(
                [npm, "ci", "--prefix", str(root / "docs"), "--no-audit", "--no-fund", "--loglevel=error"],
                check=True,
            )  # fmt: skip
        output = root / "build" / "wheel-reference"
        subprocess.run(
            [sys.executable, str(root / "docs" / "build_reference.py"), "--output", str(output)],
            check=True,
            cwd=root,
        )
        build_data["force_include"][str(output / "index.html")] = PAGE
