"""The tests the pytest plugin adds when ``--pin-base-url`` is given.

Not collected by itself (the name does not start with ``test_``): the plugin
collects it only when asked, and this module reads the plugin's settings at
import time to load the schema eagerly, which gives one test per operation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis

from pin_mock.contract import safe_urls
from pin_mock.contract.checks import schemathesis_checks  # noqa: F401 - registers PIN's checks
from pin_mock.contract.findings import SECRETS
from pin_mock.contract.output.text import format_finding
from pin_mock.contract.probes.catalogue import all_probes
from pin_mock.contract.probes.framework import Probe, ProbeContext, run_probes
from pin_mock.contract.pytest_plugin import current_settings
from pin_mock.contract.schemathesis_auth import provider_for, requires_oauth
from pin_mock.contract.spec import Spec, bundled_spec_path
from pin_mock.contract.target import Target
from pin_mock.contract.tokens import Credentials, TokenSource

SETTINGS = current_settings()
SECRETS.add(SETTINGS.client_secret)  # redacted in every failure message
safe_urls.install()  # every webhook URL: an .invalid host (the plugin runs no receiver)
SPEC_PATH = SETTINGS.spec or bundled_spec_path()
SPEC = Spec.load(SPEC_PATH)
OPERATIONS = list(SPEC.operations)
TOKENS = TokenSource(
    Credentials.for_target(
        SETTINGS.base_url, SPEC.token_url, SETTINGS.client_id, SETTINGS.client_secret
    )
)

_config: dict = {
    "base-url": SETTINGS.base_url,
    "generation": {"max-examples": SETTINGS.max_examples, "database": "none"},
}
if SETTINGS.seed is not None:
    _config["seed"] = SETTINGS.seed
schema = schemathesis.openapi.from_path(SPEC_PATH, config=schemathesis.Config.from_dict(_config))
schema.auth(refresh_interval=None).apply_to(requires_oauth)(provider_for(TOKENS))


@schema.parametrize()
def test_pin_contract(case: schemathesis.Case) -> None:
    """Every Schemathesis check and every PIN check holds for generated requests."""
    case.call_and_validate()


def name_operation_tests(items: list[pytest.Item]) -> None:
    """One id per operation: ``test_pin_contract[listPatients]`` (``-k listPatients`` selects it).

    Schemathesis names its items ``test_pin_contract[GET /v1/patients]`` but, under
    pytest 9, gives them all the node id ``...::test_pin_contract``: ``-k``, JUnit
    and the progress count (it counts distinct ids) could not tell them apart.
    """
    ids = {op.label: op.operation_id for op in OPERATIONS}
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


TestPinStateful = schema.as_state_machine().TestCase


@pytest.fixture(scope="module")
def pin_probe_context() -> Iterator[ProbeContext]:
    """One target and context shared by the probes (a patient created once serves two probes)."""
    target = Target(SETTINGS.base_url, TOKENS, SPEC)
    try:
        yield ProbeContext(target, OPERATIONS, SETTINGS.client_id, SETTINGS.client_secret)
    finally:
        target.close()


PROBES = all_probes(SPEC, OPERATIONS)


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_pin_probe(probe: Probe, pin_probe_context: ProbeContext) -> None:
    """The kit's own probe: auth enforcement, token errors, statefulness, filters, paging."""
    (result,) = run_probes(pin_probe_context, [probe])
    if result.skipped:
        pytest.skip(result.skipped)
    assert not result.findings, "\n\n".join(format_finding(f) for f in result.findings)
