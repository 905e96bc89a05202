"""pin-mock: a local sandbox and contract-testing kit for the PIN Clinical Intelligence API."""

from pin_mock.app import create_app
from pin_mock.settings import Settings

__all__ = ["Settings", "create_app"]
__version__ = "0.1.0"
