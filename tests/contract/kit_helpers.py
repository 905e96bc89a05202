"""Small helpers the kit's tests import (conftest modules are not importable by name)."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import yaml

from pin_mock.contract.spec import Spec, bundled_spec_path, load_spec

SEED = 20261124
#: The facts of the bundled spec, for rules judged against crafted exchanges.
SPEC = Spec.load(bundled_spec_path())


def revised_spec(directory: Path, edit: Callable[[dict[str, Any]], Any]) -> Path:
    """A copy of the bundled spec changed by ``edit`` (in place), written under ``directory``."""
    document = copy.deepcopy(load_spec(bundled_spec_path()))
    edit(document)
    path = directory / "revised-pin.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def rate_headers(
    limit: int = 1000, remaining: int = 999, reset: int | None = None
) -> dict[str, list[str]]:
    """Valid PIN rate-limit headers (reset one hour ahead), plus a Date header."""
    reset = int(time.time()) + 3600 if reset is None else reset
    return {
        "x-ratelimit-limit": [str(limit)],
        "x-ratelimit-remaining": [str(remaining)],
        "x-ratelimit-reset": [str(reset)],
        "date": [formatdate(usegmt=True)],
    }


def long_runs_enabled() -> bool:
    """Long kit runs (``make contract-long``) are opt-in."""
    return os.environ.get("PIN_MOCK_LONG") == "1"
