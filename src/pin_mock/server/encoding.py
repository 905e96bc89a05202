"""The one JSON encoder of the sandbox's answers (orjson, with a fallback)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def encode(value: Any) -> bytes:
    """``value`` as compact JSON bytes.

    orjson refuses integers beyond 64 bits, which answers may echo from the
    client (``page=10**30`` comes back in ``pagination.page``); the standard
    library encodes those, so the rare case falls back to it. It never fails
    on text either: an answer that cannot be encoded would become a 500.
    """
    try:
        return orjson.dumps(value)
    except TypeError:
        pass
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8; escaped (\ud800) it is still valid JSON.
        return json.dumps(value, separators=(",", ":")).encode()
