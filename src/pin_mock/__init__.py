"""pin-mock: a local sandbox and contract-testing kit for the PIN Clinical Intelligence API.

Two halves that share only ``pin_mock._bundled`` (where the bundled spec is):

- ``pin_mock.server``: the sandbox (``create_app``, ``Settings``); needs the
  ``server`` extra.
- ``pin_mock.contract``: the contract-testing kit; imports nothing from the server.

This module holds the version and nothing else, so importing the kit never
loads the server.
"""

__version__ = "0.2.0"
