"""pin-mock: a local sandbox and contract-testing kit for the PIN Clinical Intelligence API."""

import warnings

# Connexion imports Starlette's test client at import time, which warns about
# httpx on every start of the server; the warning is about Connexion's
# internals, not anything a user of pin-mock can act on.
warnings.filterwarnings(
    "ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated"
)

from pin_mock.app import create_app  # noqa: E402
from pin_mock.settings import Settings  # noqa: E402

__all__ = ["Settings", "create_app"]
__version__ = "0.1.0"
