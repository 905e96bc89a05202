"""The one JSON encoder of the sandbox's answers (orjson, with a fallback)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def encode(value: Any) -> bytes:
    """``value`` as compact JSON bytes.

    orjson refuses integers beyond 64 bits, which answers may echo from the
    client (``page=10**30`` comes back in ``pagination.page``); the standard
    library encodes those, so the rare case falls back to it.
    """
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
