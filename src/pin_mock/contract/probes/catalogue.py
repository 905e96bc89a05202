"""Every probe of the kit, in the order they run, and the check names they report."""

from __future__ import annotations

from pin_mock.contract.probes.accounting import ACCOUNTING_PROBES
from pin_mock.contract.probes.auth import auth_probes
from pin_mock.contract.probes.consistency import CONSISTENCY_PROBES
from pin_mock.contract.probes.framework import PROBE_ERROR, Probe
from pin_mock.contract.probes.references import REFERENCE_PROBES
from pin_mock.contract.probes.reports import REPORT_PROBES
from pin_mock.contract.probes.scopes import scope_probes
from pin_mock.contract.probes.state import STATE_PROBES
from pin_mock.contract.probes.tenancy import TENANCY_PROBES
from pin_mock.contract.probes.webhooks import WEBHOOK_PROBES
from pin_mock.contract.spec import Operation, Spec


def all_probes(spec: Spec, operations: list[Operation]) -> list[Probe]:
    """Every probe of the kit for the spec's selected ``operations``, in the order they run."""
    token = spec.token_operation
    return [
        *auth_probes(spec, operations),
        *scope_probes(token.operation_id if token else "issueToken"),
        *ACCOUNTING_PROBES,
        *STATE_PROBES,
        *CONSISTENCY_PROBES,
        *REFERENCE_PROBES,
        *REPORT_PROBES,
        *TENANCY_PROBES,
        *WEBHOOK_PROBES,
    ]


def probe_check_names(spec: Spec) -> frozenset[str]:
    """The names of the checks the probes report for ``spec`` (besides the ambient checks)."""
    probes = all_probes(spec, list(spec.operations))
    return frozenset({PROBE_ERROR}.union(*(probe.checks for probe in probes)))
