"""Where the bundled spec, its overlays, the fixtures and the built reference live.

In the wheel they are under ``pin_mock/_data/``; in a source checkout they are
the repository's ``openapi/``, ``fixtures/`` and ``build/reference/``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _bundled(*parts: str) -> Path | None:
    root = resources.files("pin_mock").joinpath("_data", *parts)
    path = Path(str(root))
    return path if path.exists() else None


def spec_path() -> Path:
    """The bundled ``pin.yaml``: packaged with the wheel, or ``openapi/`` in a checkout."""
    return _bundled("openapi", "pin.yaml") or _REPO_ROOT / "openapi" / "pin.yaml"


def overlay_path(name: str) -> Path:
    """A bundled overlay of the spec (``pin_mock.overlays``), beside ``pin.yaml``."""
    return _bundled("openapi", name) or _REPO_ROOT / "openapi" / name


def fixtures_dir() -> Path:
    """The bundled ``fixtures/`` directory."""
    return _bundled("fixtures") or _REPO_ROOT / "fixtures"


def reference_page() -> Path:
    """The API reference page: built into the wheel, or by ``make docs`` in a checkout."""
    return _bundled("reference", "index.html") or _REPO_ROOT / "build" / "reference" / "index.html"
