"""pytest plugin (entry point ``pin_contract``): the kit's checks as parametrised tests.

    pytest --pin-base-url http://127.0.0.1:8080 \\
           --pin-client-id sandbox-enterprise --pin-client-secret sandbox-enterprise-secret

adds, to whatever else the run collects, one test per probe (first), one
test per operation (Schemathesis with PIN's checks) and a stateful test (see
``pytest_suite.py``). The ``--pin-*`` options select operations, phases and
checks like ``pin-mock contract`` does. Every test id it prints can be given
back to pytest (``pytest --pin-base-url URL 'pin_contract::test_pin_contract[listPatients]'``).
Its caches go to a temporary directory, never the project.

Without ``--pin-base-url`` the plugin does nothing: it is loaded into every
pytest run of a project that installs pin-mock, so this module imports nothing
but pytest, the standard library and the constants of ``sandbox_client``
until the option is given (``test_kit_imports.py`` checks).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

#: The node id prefix of every test the plugin adds.
PREFIX = "pin_contract::"
PHASE_NAMES = ("examples", "coverage", "fuzzing", "stateful", "probes")


@dataclass(frozen=True)
class PluginSettings:
    """The ``--pin-*`` options of this pytest run."""

    base_url: str
    client_id: str
    client_secret: str
    spec: Path | None
    max_examples: int
    seed: int | None
    phases: tuple[str, ...] = PHASE_NAMES
    include: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)
    include_unimplemented: bool = False
    checks: tuple[str, ...] | None = None
    exclude_checks: tuple[str, ...] = ()
    second_client_id: str | None = None
    second_client_secret: str | None = None
    examples: Path | None = None
    cleanup: str = "always"
    #: Where Hypothesis and Schemathesis keep their caches for this session.
    cache_dir: Path | None = None


_settings: PluginSettings | None = None
#: Node ids given on the command line (``pin_contract::...``): only these of ours run.
_requested: list[str] = []
_own_cache: Path | None = None


def current_settings() -> PluginSettings:
    """The options of the running session (for ``pytest_suite``)."""
    if _settings is None:
        raise RuntimeError("the PIN contract suite runs only with --pin-base-url")
    return _settings


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pin-contract", "PIN contract kit (pin-mock)")
    add = group.addoption
    add("--pin-base-url", metavar="URL", help="Run the PIN contract tests against this base URL.")
    add(
        "--pin-client-id",
        metavar="ID",
        help=f"OAuth client id (default: $PIN_CLIENT_ID, else {DEFAULT_CLIENT_ID}).",
    )
    add(
        "--pin-client-secret",
        metavar="SECRET",
        help="OAuth client secret (default: $PIN_CLIENT_SECRET).",
    )
    add(
        "--pin-second-client-id",
        metavar="ID",
        help="A second client, for the tenancy probes ($PIN_SECOND_CLIENT_ID).",
    )
    add(
        "--pin-second-client-secret",
        metavar="SECRET",
        help="Its secret ($PIN_SECOND_CLIENT_SECRET).",
    )
    add("--pin-spec", metavar="PATH", help="OpenAPI file (default: the bundled pin.yaml).")
    add("--pin-examples", metavar="PATH", help="Where the documented examples' requests come from.")
    add(
        "--pin-max-examples",
        type=int,
        default=10,
        metavar="N",
        help="Cases per operation (default 10).",
    )
    add("--pin-seed", type=int, metavar="SEED", help="Seed for reproducible PIN contract tests.")
    add("--pin-phases", metavar="LIST", default=",".join(PHASE_NAMES),
        help=f"Comma-separated phases (default: {','.join(PHASE_NAMES)}).")  # fmt: skip
    for kind, what in (("", "operationId or 'GET /v1/patients'"), ("-tag", "tag"), ("-path", "path glob"),
                       ("-method", "method")):  # fmt: skip
        add(
            f"--pin-include{kind}",
            action="append",
            default=[],
            metavar="VALUE",
            help=f"Only operations by {what}.",
        )
        add(
            f"--pin-exclude{kind}",
            action="append",
            default=[],
            metavar="VALUE",
            help=f"Skip operations by {what}.",
        )
    add("--pin-include-unimplemented", action="store_true",
        help="Test operations that answer only 404/405/501 too (default: skip them as not implemented).")  # fmt: skip
    add(
        "--pin-checks",
        action="append",
        metavar="NAMES",
        help="Only these checks ('default', 'all', names).",
    )
    add(
        "--pin-exclude-checks",
        action="append",
        default=[],
        metavar="NAMES",
        help="Leave these checks out.",
    )
    add("--pin-cleanup", choices=("always", "never"), default="always",
        help="Remove what the tests created, at the end of the session (default: always).")  # fmt: skip


def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Take ``pin_contract::...`` node ids off the command line: they are no file to collect."""
    ours = [a for a in args if a.startswith(PREFIX)]
    if not ours:
        return
    _requested.extend(ours)
    args[:] = [a for a in args if not a.startswith(PREFIX)]
    given = getattr(early_config.known_args_namespace, "file_or_dir", None) or []
    if not [a for a in given if not str(a).startswith(PREFIX)]:
        # Only our tests were asked for: collect nothing of the project's.
        args.append(tempfile.mkdtemp(prefix="pin-contract-nothing-"))


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())


def pytest_configure(config: pytest.Config) -> None:
    global _settings, _own_cache
    base_url = config.getoption("pin_base_url", None)
    if not base_url:
        return
    option = config.getoption
    client_id = option("pin_client_id") or os.environ.get("PIN_CLIENT_ID")
    client_secret = option("pin_client_secret") or os.environ.get("PIN_CLIENT_SECRET")
    if bool(client_id) != bool(client_secret):
        raise pytest.UsageError("give both --pin-client-id and --pin-client-secret")
    second_id = option("pin_second_client_id") or os.environ.get("PIN_SECOND_CLIENT_ID")
    second_secret = option("pin_second_client_secret") or os.environ.get("PIN_SECOND_CLIENT_SECRET")
    if bool(second_id) != bool(second_secret):
        raise pytest.UsageError("give both --pin-second-client-id and --pin-second-client-secret")
    phases = _split([option("pin_phases")])
    if not phases or set(phases) - set(PHASE_NAMES):
        raise pytest.UsageError(
            f"--pin-phases takes a comma-separated list of {', '.join(PHASE_NAMES)}"
        )
    spec, examples = option("pin_spec"), option("pin_examples")
    kinds = ("", "_tag", "_path", "_method")
    _own_cache = _cache_dir(config)
    _settings = PluginSettings(
        base_url=base_url.rstrip("/"),
        client_id=client_id or DEFAULT_CLIENT_ID,
        client_secret=client_secret or DEFAULT_CLIENT_SECRET,
        spec=Path(spec) if spec else None,
        max_examples=option("pin_max_examples"),
        seed=option("pin_seed"),
        phases=phases,
        include={k.strip("_"): tuple(option(f"pin_include{k}")) for k in kinds},
        exclude={k.strip("_"): tuple(option(f"pin_exclude{k}")) for k in kinds},
        include_unimplemented=option("pin_include_unimplemented"),
        checks=_split(option("pin_checks")) or None,
        exclude_checks=_split(option("pin_exclude_checks")),
        second_client_id=second_id,
        second_client_secret=second_secret,
        examples=Path(examples) if examples else None,
        cleanup=option("pin_cleanup"),
        cache_dir=_own_cache,
    )


def _cache_dir(config: pytest.Config) -> Path | None:
    """A temporary home for Hypothesis's cache, unless the project already keeps one.

    A project whose own tests use Hypothesis (a ``.hypothesis/`` directory, or
    ``HYPOTHESIS_STORAGE_DIRECTORY``) keeps its database where it is.
    """
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or (config.rootpath / ".hypothesis").exists():
        return None
    from hypothesis.configuration import set_hypothesis_home_dir

    directory = Path(tempfile.mkdtemp(prefix="pin-contract-cache-"))
    set_hypothesis_home_dir(directory / "hypothesis")
    return directory


def pytest_unconfigure(config: pytest.Config) -> None:
    global _settings, _own_cache
    _settings = None
    _requested.clear()
    if _own_cache is not None:
        shutil.rmtree(_own_cache, ignore_errors=True)
        _own_cache = None


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
    added.sort(key=module.obj.running_order)  # the probes first, then fuzzing, then stateful
    if _requested:
        wanted = set(_requested)
        dropped = [item for item in added if item.nodeid not in wanted]
        added = [item for item in added if item.nodeid in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
    items.extend(added)
