"""Where the bundled spec and fixtures live: in the wheel, or in a source checkout."""

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


def fixtures_dir() -> Path:
    """The bundled ``fixtures/`` directory."""
    return _bundled("fixtures") or _REPO_ROOT / "fixtures"
