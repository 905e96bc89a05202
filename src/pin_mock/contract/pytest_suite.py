"""The tests the pytest plugin adds when ``--pin-base-url`` is given.

Not collected by itself (the name does not start with ``test_``): the plugin
collects it only when asked, and this module reads the plugin's settings at
import time to load the schema eagerly, which gives one test per operation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis

from pin_mock.contract.checks import schemathesis_checks  # noqa: F401 - registers PIN's checks
from pin_mock.contract.output.junit_har import format_finding
from pin_mock.contract.probes.catalogue import all_probes
from pin_mock.contract.probes.framework import Probe, ProbeContext, run_probes
from pin_mock.contract.pytest_plugin import current_settings
from pin_mock.contract.schemathesis_auth import provider_for, requires_oauth
from pin_mock.contract.spec import Spec, bundled_spec_path
from pin_mock.contract.target import Target
from pin_mock.contract.tokens import Credentials, TokenSource

SETTINGS = current_settings()
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
