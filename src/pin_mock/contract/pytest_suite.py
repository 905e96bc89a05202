"""The tests the pytest plugin adds when ``--pin-base-url`` is given.

Not collected by itself (the name does not start with ``test_``): the plugin
collects it only when asked. Collecting it never contacts the target (an
unreachable target is one clear failure of these tests, and only of these);
the first test that runs reaches the target, gets a token and finds the
operations it does not implement (``pin_session``), which are then skipped
with that reason. The probes run first, so fuzzing never fills the target
before them; what the tests created is removed at the end of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.errors import NoLinksFound
from schemathesis.core.failures import FailureGroup

from pin_mock.contract import safe_urls
from pin_mock.contract.checks import schemathesis_checks  # noqa: F401 - registers PIN's checks
from pin_mock.contract.cleanup import Ledger
from pin_mock.contract.discovery import missing_only_unimplemented, not_implemented
from pin_mock.contract.examples import default_source, documented_examples
from pin_mock.contract.findings import SECRETS
from pin_mock.contract.output.text import format_finding
from pin_mock.contract.probes.catalogue import all_probes
from pin_mock.contract.probes.framework import Probe, ProbeContext, run_probes
from pin_mock.contract.probes.webhooks import is_local
from pin_mock.contract.pytest_plugin import PREFIX, current_settings
from pin_mock.contract.receiver import Receiver
from pin_mock.contract.runner import known_checks
from pin_mock.contract.schemathesis_auth import provider_for, requires_oauth
from pin_mock.contract.selection import CheckSelection, OperationSelection, SelectionError
from pin_mock.contract.spec import Spec, bundled_spec_path
from pin_mock.contract.stateful import run_stateful
from pin_mock.contract.target import Target
from pin_mock.contract.tokens import Credentials, TokenError, TokenSource

SETTINGS = current_settings()
SECRETS.add(SETTINGS.client_secret, SETTINGS.second_client_secret)  # redacted in every message
safe_urls.install()  # every webhook URL: the run's receiver, else an .invalid host
SPEC_PATH = SETTINGS.spec or bundled_spec_path()
SPEC = Spec.load(SPEC_PATH)
SELECTION = OperationSelection(
    include=SETTINGS.include.get("", ()), exclude=SETTINGS.exclude.get("", ()),
    include_tags=SETTINGS.include.get("tag", ()), exclude_tags=SETTINGS.exclude.get("tag", ()),
    include_paths=SETTINGS.include.get("path", ()), exclude_paths=SETTINGS.exclude.get("path", ()),
    include_methods=SETTINGS.include.get("method", ()), exclude_methods=SETTINGS.exclude.get("method", ()),
)  # fmt: skip
try:
    OPERATIONS = SELECTION.select(list(SPEC.operations))
    CHECKS = CheckSelection.parse(SETTINGS.checks, SETTINGS.exclude_checks, known_checks(SPEC))
except SelectionError as exc:
    raise pytest.UsageError(str(exc)) from None
EXAMPLES = documented_examples(SPEC, SETTINGS.examples or default_source(SPEC_PATH))
TOKENS = TokenSource(
    Credentials.for_target(
        SETTINGS.base_url, SPEC.token_url, SETTINGS.client_id, SETTINGS.client_secret
    )
)
LEDGER = Ledger(SPEC)


@dataclass
class Session:
    """What the first test learnt about the target (``problem``: why nothing can run)."""

    problem: str = ""
    not_implemented: dict[str, str] = field(default_factory=dict)
    ready: bool = False
    #: Whether a test already failed with ``problem`` (the others are skipped: one failure).
    reported: bool = False


SESSION = Session()


PENDING = "pin-contract-token-pending"


class SessionTokens:
    """The run's token once the session has reached the target.

    Schemathesis builds some cases while collecting: they get a placeholder
    (collecting never contacts the target), replaced with the real token when
    the test runs.
    """

    def token(self) -> str:
        return TOKENS.token() if SESSION.ready else PENDING


_config: dict[str, Any] = {
    "base-url": SETTINGS.base_url,
    "generation": {"max-examples": SETTINGS.max_examples, "database": "none"},
    "phases": {
        p: {"enabled": p in SETTINGS.phases}
        for p in ("examples", "coverage", "fuzzing", "stateful")
    },
}
if SETTINGS.cache_dir is not None:
    _config["cache"] = {"directory": str(SETTINGS.cache_dir / "schemathesis")}
if SETTINGS.seed is not None:
    _config["seed"] = SETTINGS.seed
schema = schemathesis.openapi.from_path(SPEC_PATH, config=schemathesis.Config.from_dict(_config))
if len(OPERATIONS) != len(SPEC.operations):
    schema = schema.include(name=[op.label for op in OPERATIONS])
schema.auth(refresh_interval=None).apply_to(requires_oauth)(provider_for(SessionTokens()))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pin_session() -> Iterator[Session]:
    """Reach the target once: a token, the not-implemented operations; clean up at the end."""
    target = Target(SETTINGS.base_url, TOKENS, SPEC, checks=CHECKS, ledger=LEDGER)
    receiver = None
    try:
        httpx.get(SETTINGS.base_url + "/", timeout=10.0)
        TOKENS.token()
    except (httpx.HTTPError, TokenError) as exc:
        SESSION.problem = f"cannot test {SETTINGS.base_url}: {type(exc).__name__}: {exc}"
    if not SESSION.problem:
        if is_local(SETTINGS.base_url):
            receiver = Receiver().__enter__()
            base = "http://{}:{}".format(*receiver.address)
            os.environ[safe_urls.ENV_RECEIVER_URL] = f"{base}/pin-contract/fuzzed"
        if not SETTINGS.include_unimplemented:
            SESSION.not_implemented = not_implemented(
                target, SPEC, OPERATIONS, safe_urls.INVALID_URL
            )
        SESSION.ready = True
    SESSION.receiver = receiver  # type: ignore[attr-defined]
    try:
        yield SESSION
    finally:
        if SESSION.ready and SETTINGS.cleanup == "always":
            LEDGER.clean(
                lambda method, path, template: (
                    target.request(method, path, template=template).status
                )
            )
        target.close()
        if receiver is not None:
            receiver.__exit__(None, None, None)
            os.environ.pop(safe_urls.ENV_RECEIVER_URL, None)


def _gate(session: Session, label: str | None = None) -> None:
    if session.problem:
        if session.reported:
            pytest.skip(f"not run: {session.problem} (the first PIN contract test failed on it)")
        session.reported = True
        pytest.fail(session.problem, pytrace=False)
    if label in session.not_implemented:
        pytest.skip(f"not implemented: {label} {session.not_implemented[label]}")


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Note what the generated requests created, for the cleanup."""
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 - not JSON: nothing to note
        body = None
    LEDGER.observe(case.method, str(response.request.url), response.status_code, body)


_EXCLUDED = [name for name in schemathesis_checks.SCHEMATHESIS_CHECKS if not CHECKS.enabled(name)]


@schema.parametrize()
def test_pin_contract(
    case: schemathesis.Case, pin_session: Session, request: pytest.FixtureRequest
) -> None:
    """Every Schemathesis check and every PIN check holds for generated requests."""
    _gate(pin_session, getattr(request.node, "operation_label", None) or case.operation.label)
    if (case.headers or {}).get("Authorization") == f"Bearer {PENDING}":
        case.headers["Authorization"] = f"Bearer {TOKENS.token()}"
    excluded = [schemathesis_checks.SCHEMATHESIS_CHECKS[n] for n in _EXCLUDED]
    try:
        case.call_and_validate(excluded_checks=excluded or None)
    except FailureGroup as group:
        label = case.operation.label
        kept = [
            f
            for f in group.exceptions
            if not missing_only_unimplemented(str(f), label, pin_session.not_implemented)
        ]
        if kept:
            raise FailureGroup(kept, str(group)) from None


def name_operation_tests(items: list[pytest.Item]) -> None:
    """One id per operation: ``test_pin_contract[listPatients]`` (``-k listPatients`` selects it).

    Schemathesis names its items ``test_pin_contract[GET /v1/patients]`` but, under
    pytest 9, gives them all the node id ``...::test_pin_contract``: ``-k``, JUnit
    and the progress count (it counts distinct ids) could not tell them apart.
    """
    ids = {op.label: op.operation_id for op in SPEC.operations}
    for item in items:
        label = getattr(item, "operation_label", None)
        if label is None or getattr(item, "originalname", None) != test_pin_contract.__name__:
            continue
        operation_id = ids.get(label) or label
        base = test_pin_contract.__name__
        item.name = f"{base}[{operation_id}]"
        if hasattr(item, "_id"):  # pytest 9: a structured id, the parameter kept apart
            item._id = item.parent.id.child(base).with_params(operation_id)
        else:
            item._nodeid = f"{item.parent.nodeid}::{item.name}"
        item.keywords[operation_id] = True


def running_order(item: pytest.Item) -> int:
    """Probes first (nothing fuzzed has filled the target yet), then fuzzing, then stateful."""
    name = item.nodeid.removeprefix(PREFIX)
    return (
        0 if name.startswith("test_pin_probe") else 2 if name.startswith("test_pin_stateful") else 1
    )


@pytest.mark.skipif("stateful" not in SETTINGS.phases, reason="the stateful phase is not selected")
def test_pin_stateful(pin_session: Session, request: pytest.FixtureRequest) -> None:
    """Schemathesis's stateful phase over the implemented operations (links between them)."""
    _gate(pin_session)
    implemented = [op.label for op in OPERATIONS if op.label not in pin_session.not_implemented]
    if not implemented:
        pytest.skip("no implemented operation")
    # Its scenarios run to the end even when the target's state moves between them
    # (stateful.py: a flaky Hypothesis run is followed by a fresh one; failures kept).
    configured = schema.config.get_hypothesis_settings(phase="stateful", apply_ci_profile=False)
    excluded = [schemathesis_checks.SCHEMATHESIS_CHECKS[n] for n in _EXCLUDED]
    # The schema already holds the selection (an equal filter again is an error).
    chained = schema if len(implemented) == len(OPERATIONS) else schema.include(name=implemented)
    try:
        run = run_stateful(chained.as_state_machine(),
                           scenarios=configured.max_examples, seed=SETTINGS.seed,
                           excluded_checks=excluded, settings=configured)  # fmt: skip
    except NoLinksFound:
        pytest.skip("the tested operations have no links to chain")
    # How many scenarios ran, and how often the target's moving state made Hypothesis
    # start afresh (in junit.xml's properties under junit_family xunit1).
    request.node.user_properties += [("scenarios", run.scenarios), ("restarts", run.restarts)]


@pytest.fixture(scope="module")
def pin_probe_context(pin_session: Session) -> Iterator[ProbeContext]:
    """One target and context shared by the probes (a patient created once serves two probes)."""
    target = Target(SETTINGS.base_url, TOKENS, SPEC, checks=CHECKS, ledger=LEDGER)
    receiver = getattr(pin_session, "receiver", None)
    tested = [op for op in OPERATIONS if op.label not in pin_session.not_implemented]
    unimplemented = frozenset(
        op.operation_id for op in OPERATIONS if op.label in pin_session.not_implemented
    )
    try:
        yield ProbeContext(target, tested, SETTINGS.client_id, SETTINGS.client_secret,
                           second_client_id=SETTINGS.second_client_id,
                           second_client_secret=SETTINGS.second_client_secret,
                           receiver=receiver, examples=EXAMPLES, unimplemented=unimplemented)  # fmt: skip
    finally:
        target.close()


PROBES = all_probes(SPEC, OPERATIONS, EXAMPLES) if "probes" in SETTINGS.phases else []


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_pin_probe(probe: Probe, pin_session: Session, pin_probe_context: ProbeContext) -> None:
    """The kit's own probe: auth enforcement, token errors, statefulness, filters, paging."""
    _gate(pin_session)
    (result,) = run_probes(pin_probe_context, [probe])
    if result.skipped:
        pytest.skip(result.skipped)
    assert not result.findings, "\n\n".join(format_finding(f) for f in result.findings)
