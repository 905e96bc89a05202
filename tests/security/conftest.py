"""Fixtures of the hostile tests: the in-process sandboxes and loopback receivers of tests/server.

``tests/server`` (``harness``, ``spec_conformance``, ``loopback_receiver``,
``webhook_helpers``) is put on ``sys.path`` so the
hostile tests reuse the same helpers; ``sandbox_factory`` and ``sandbox`` are
the same fixtures as ``tests/server/conftest.py``'s (every ``/v1`` answer is
checked against the spec).
"""

from __future__ import annotations

import sys
from pathlib import Path

_SERVER_TESTS = Path(__file__).resolve().parents[1] / "server"
for _path in (_SERVER_TESTS,):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from sandboxes import sandbox, sandbox_factory  # noqa: E402,F401 - the fixtures of tests/server
