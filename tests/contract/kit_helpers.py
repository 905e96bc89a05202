"""Small helpers the kit's tests import (conftest modules are not importable by name)."""

from __future__ import annotations

import os
import time
from email.utils import formatdate

SEED = 20261124


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
