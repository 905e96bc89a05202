"""pytest plugin (entry point ``pin_sandbox``): a real PIN sandbox for the session.

    def test_my_app_lists_patients(pin_sandbox):
        app = MyApp(pin_sandbox.base_url, pin_sandbox.client_id, pin_sandbox.client_secret)
        assert app.patient_names()[0] == "John Doe"
        assert pin_sandbox.journal(operation="listPatients")  # what the app sent

Fixtures:

- ``pin_sandbox``: the session's sandbox (``pin_mock.testing.Sandbox``), reset
  before each test that asks for it (every client it handed out back to the
  seeded state and the real clock);
- ``pin_sandbox_session``: the same sandbox without the reset (session scope,
  for fixtures of a wider scope);
- ``pin_sandbox_settings``: the sandbox's settings as ``Settings`` field names
  (default: none, the defaults); override it in a conftest.py to change them,
  as pytest-httpserver's ``httpserver_listen_address``.

The server starts on first use, once per session (per xdist worker), on a
free loopback port; a run that never asks for these fixtures starts nothing
and imports nothing beyond pytest (the plugin is loaded into every pytest run
of a project that installs pin-mock).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pin_mock.testing.session import Sandbox


@pytest.fixture(scope="session")
def pin_sandbox_settings() -> dict[str, Any]:
    """``Settings`` fields for the session's sandbox (override in a conftest.py)."""
    return {}


@pytest.fixture(scope="session")
def pin_sandbox_session(pin_sandbox_settings: dict[str, Any]) -> Iterator[Sandbox]:
    """The session's sandbox, started on first use (no reset between tests)."""
    from pin_mock.testing.session import sandbox

    with sandbox(**pin_sandbox_settings) as started:
        yield started


@pytest.fixture
def pin_sandbox(pin_sandbox_session: Sandbox) -> Sandbox:
    """The session's sandbox, reset to the seeded state for this test."""
    pin_sandbox_session.reset()
    return pin_sandbox_session
