"""What every handler needs: the caller, the services, paging and created answers."""

from __future__ import annotations

from typing import Any

from connexion.context import _scope, context

from pin_mock.server import timestamps
from pin_mock.server.services import Services


def services() -> Services:
    """The sandbox services of the running app."""
    # Straight from the ASGI scope: cheaper than building a request object.
    return _scope.get()["state"]["services"]


def client_id() -> str:
    """The authenticated client (the token's ``sub``)."""
    return context["user"]


def paged(items: list[Any], *, page: int, limit: int, total: int) -> dict[str, Any]:
    """The list envelope ``{data, pagination}``."""
    return {"data": items, "pagination": {"page": page, "limit": limit, "total": total}}


def page_of(items: list[Any], *, page: int, limit: int) -> dict[str, Any]:
    """Slice a full list into one page envelope."""
    offset = (page - 1) * limit
    return {
        "data": items[offset : offset + limit],
        "pagination": {"page": page, "limit": limit, "total": len(items)},
    }


def created(body: dict[str, Any], location: str, status: int = 201) -> tuple[Any, int, dict]:
    """A created (or accepted) resource with its ``Location``."""
    return body, status, {"Location": location}


def now_iso() -> str:
    """The current time as the API writes it: ``2024-01-01T00:00:00Z``."""
    return timestamps.iso(services().clock())
