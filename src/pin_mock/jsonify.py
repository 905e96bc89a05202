"""A faster JSON encoder for Connexion's responses (orjson instead of ``json``)."""

from __future__ import annotations

from typing import Any

import orjson
from connexion.jsonifier import Jsonifier


class OrjsonJsonifier(Jsonifier):
    """Connexion's Jsonifier interface over orjson: same output shape, less time."""

    def __init__(self) -> None:
        super().__init__()

    def dumps(self, data: Any, **kwargs: Any) -> str:
        # Connexion's default appends a newline; keep it so bodies stay byte-identical.
        return orjson.dumps(data).decode() + "\n"

    def loads(self, data: Any) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return data.decode() if isinstance(data, bytes) else data
