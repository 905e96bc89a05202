"""pytest plugin (entry point ``pin_contract``): the kit's checks as parametrised tests.

    pytest --pin-base-url http://127.0.0.1:8080 \\
           --pin-client-id sandbox-enterprise --pin-client-secret sandbox-enterprise-secret

adds, to whatever else the run collects, one test per operation (Schemathesis
with PIN's checks), a stateful test and one test per probe (see
``pytest_suite.py``). Without ``--pin-base-url`` the plugin does nothing: it is
loaded into every pytest run of a project that installs pin-mock, so this
module imports nothing but pytest, the standard library and the constants of
``sandbox_client`` until the option is given (``test_kit_imports.py`` checks).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET


@dataclass(frozen=True)
class PluginSettings:
    """The ``--pin-*`` options of this pytest run."""

    base_url: str
    client_id: str
    client_secret: str
    spec: Path | None
    max_examples: int
    seed: int | None


_settings: PluginSettings | None = None


def current_settings() -> PluginSettings:
    """The options of the running session (for ``pytest_suite``)."""
    if _settings is None:
        raise RuntimeError("the PIN contract suite runs only with --pin-base-url")
    return _settings


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pin-contract", "PIN contract kit (pin-mock)")
    group.addoption(
        "--pin-base-url", metavar="URL", help="Run the PIN contract tests against this base URL."
    )
    group.addoption(
        "--pin-client-id",
        metavar="ID",
        help=f"OAuth client id (default: $PIN_CLIENT_ID, else {DEFAULT_CLIENT_ID}).",
    )
    group.addoption(
        "--pin-client-secret",
        metavar="SECRET",
        help="OAuth client secret (default: $PIN_CLIENT_SECRET).",
    )
    group.addoption(
        "--pin-spec", metavar="PATH", help="OpenAPI file (default: the bundled pin.yaml)."
    )
    group.addoption(
        "--pin-max-examples",
        type=int,
        default=10,
        metavar="N",
        help="Cases per operation (default 10).",
    )
    group.addoption(
        "--pin-seed", type=int, metavar="SEED", help="Seed for reproducible PIN contract tests."
    )


def pytest_configure(config: pytest.Config) -> None:
    global _settings
    base_url = config.getoption("pin_base_url", None)
    if not base_url:
        return
    client_id = config.getoption("pin_client_id") or os.environ.get("PIN_CLIENT_ID")
    client_secret = config.getoption("pin_client_secret") or os.environ.get("PIN_CLIENT_SECRET")
    if bool(client_id) != bool(client_secret):
        raise pytest.UsageError("give both --pin-client-id and --pin-client-secret")
    spec = config.getoption("pin_spec")
    _settings = PluginSettings(
        base_url=base_url.rstrip("/"),
        client_id=client_id or DEFAULT_CLIENT_ID,
        client_secret=client_secret or DEFAULT_CLIENT_SECRET,
        spec=Path(spec) if spec else None,
        max_examples=config.getoption("pin_max_examples"),
        seed=config.getoption("pin_seed"),
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    global _settings
    _settings = None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    # tryfirst: add the suite before -k / -m deselection runs, so they apply to it too.
    if _settings is None:
        return
    spec = importlib.util.find_spec("pin_mock.contract.pytest_suite")
    assert spec is not None and spec.origin is not None
    # A fixed node id: the file lives in site-packages, outside the project's rootdir.
    module = pytest.Module.from_parent(session, path=Path(spec.origin), nodeid="pin_contract")
    added = list(session.genitems(module))
    module.obj.name_operation_tests(added)
    items.extend(added)
