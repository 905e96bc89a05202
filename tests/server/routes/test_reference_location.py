"""The sandbox looks for the page ``make docs`` builds where ``make docs`` writes it.

(A module that moves within the package must still find the checkout's ``build/``:
the browser test only skips when ``/reference`` answers 503.)
"""

from __future__ import annotations

from pathlib import Path

from pin_mock.server.routes.reference import default_location

ROOT = Path(__file__).resolve().parents[3]


def test_the_reference_is_looked_for_in_the_checkouts_build_folder() -> None:
    assert default_location() == ROOT / "build" / "reference" / "index.html"
