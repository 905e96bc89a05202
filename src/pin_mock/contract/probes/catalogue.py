"""Every probe of the kit, in the order they run, and the check names they report."""

from __future__ import annotations

from collections.abc import Sequence

from pin_mock.contract.examples import DocumentedExample
from pin_mock.contract.probes.accounting import ACCOUNTING_PROBES
from pin_mock.contract.probes.analytics import ANALYTICS_PROBES
from pin_mock.contract.probes.auth import auth_probes
from pin_mock.contract.probes.consistency import CONSISTENCY_PROBES
from pin_mock.contract.probes.framework import PROBE_ERROR, Probe
from pin_mock.contract.probes.isolation import ISOLATION_PROBES
from pin_mock.contract.probes.references import REFERENCE_CHECKS, reference_probes
from pin_mock.contract.probes.reports import REPORT_PROBES
from pin_mock.contract.probes.scopes import scope_probes
from pin_mock.contract.probes.state import STATE_PROBES
from pin_mock.contract.probes.tenancy import TENANCY_PROBES
from pin_mock.contract.probes.webhooks import WEBHOOK_PROBES
from pin_mock.contract.spec import Operation, Spec


def all_probes(
    spec: Spec, operations: list[Operation], examples: Sequence[DocumentedExample] = ()
) -> list[Probe]:
    """Every probe of the kit for the spec's selected ``operations``, in the order they run.

    Probes about one operation exist only for the operations given, so a selection
    scopes them; the others name the operations they need and are skipped without them.
    """
    token = spec.token_operation
    return [
        *auth_probes(spec, operations),
        *scope_probes(token.operation_id if token else "issueToken"),
        *ACCOUNTING_PROBES,
        *ISOLATION_PROBES,
        *STATE_PROBES,
        *CONSISTENCY_PROBES,
        *ANALYTICS_PROBES,
        *reference_probes(spec, operations, list(examples)),
        *REPORT_PROBES,
        *TENANCY_PROBES,
        *WEBHOOK_PROBES,
    ]


def probe_check_names(spec: Spec) -> frozenset[str]:
    """The names of the checks the probes report for ``spec`` (besides the ambient checks)."""
    probes = all_probes(spec, list(spec.operations))
    return frozenset({PROBE_ERROR, *REFERENCE_CHECKS}.union(*(probe.checks for probe in probes)))
