"""The sandbox: a Connexion app that behaves like PIN (``pip install 'pin-mock[server]'``).

The public surface is ``create_app`` and ``Settings``. They are loaded on first
use (PEP 562), so importing one module of the server does not import the app
factory and, through it, every other module.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

# Connexion imports Starlette's test client at import time, which warns about
# httpx on every start of the server; the warning is about Connexion's
# internals, not anything a user of pin-mock can act on. Set here because this
# runs before any server module imports Connexion.
warnings.filterwarnings(
    "ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated"
)

if TYPE_CHECKING:
    from pin_mock.server.app import create_app
    from pin_mock.server.settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from pin_mock.server.app import create_app

        return create_app
    if name == "Settings":
        from pin_mock.server.settings import Settings

        return Settings
    raise AttributeError(f"module 'pin_mock.server' has no attribute {name!r}")
