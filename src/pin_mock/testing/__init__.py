"""One sandbox per test session: a real pin-mock server for the tests of an app that uses PIN.

    from pin_mock.testing import sandbox

    with sandbox() as sb:                      # any test runner, or a script
        app = MyApp(base_url=sb.base_url, client_id=sb.client_id, secret=sb.client_secret)
        sb.trigger("report.completed")         # POST /_sandbox/events
        sb.clock.advance(3600)                 # POST /_sandbox/clock/advance
        print(sb.journal(status=401))          # GET /_sandbox/requests
        sb.reset()                             # POST /_sandbox/reset

and, with pytest, the ``pin_sandbox`` fixture (``pin_mock.testing.pytest_plugin``,
registered as the ``pin_sandbox`` pytest plugin: nothing to put in a
conftest.py): one server for the session, reset before each test.

The server is the one ``pin-mock serve`` runs (the same app, connection
protocol and limits), on a free loopback port, in a thread of the test
process; it needs the ``server`` extra (``pip install 'pin-mock[server]'``).
This module imports nothing heavy until a sandbox starts, so the plugin costs
a pytest run that does not use it nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pin_mock.testing.session import Clock, Sandbox, sandbox

__all__ = ["Clock", "Sandbox", "sandbox"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pin_mock.testing import session as module

        return getattr(module, name)
    raise AttributeError(f"module 'pin_mock.testing' has no attribute {name!r}")
