"""Answer shapes every handler shares: pages, created resources, the API's clock.

Handlers get what they need as arguments (``pipeline/operations.py`` passes
them): the declared parameters, ``body``, ``caller`` and any of the sandbox's
services named as a parameter (``store``, ``events``, ``reports``, ``clock``...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pin_mock.server.timestamps as timestamps


def paged(items: list[Any], *, page: int, limit: int, total: int) -> dict[str, Any]:
    """The list envelope ``{data, pagination}``."""
    return {"data": items, "pagination": {"page": page, "limit": limit, "total": total}}


def page_of(items: list[Any], *, page: int, limit: int) -> dict[str, Any]:
    """Slice a full list into one page envelope."""
    offset = (page - 1) * limit
    return paged(items[offset : offset + limit], page=page, limit=limit, total=len(items))


def created(body: dict[str, Any], location: str, status: int = 201) -> tuple[Any, int, dict]:
    """A created (or accepted) resource with its ``Location``."""
    return body, status, {"Location": location}


def now_iso(clock: Callable[[], float]) -> str:
    """The sandbox clock's time as the API writes it: ``2024-01-01T00:00:00Z``."""
    return timestamps.iso(clock())
