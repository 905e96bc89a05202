"""What a run produced: the verdict, the findings and everything the reports show.

The runner fills a ``ContractResult``; the verdict (``verdict.py``) and the
reports (``output/``) only read it, so output never imports the runner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pin_mock.contract.findings import Finding

if TYPE_CHECKING:
    from pin_mock.contract.cleanup import Ledger
    from pin_mock.contract.coverage import Coverage
    from pin_mock.contract.schemathesis_run import StRunOutcome


@dataclass
class ProbeResult:
    """One probe's outcome: findings (its own and the ambient rules'), time, skip reason."""

    name: str
    findings: list[Finding]
    seconds: float = 0.0
    skipped: str | None = None
    requests: int = 0
    #: The check names it reports (for coverage: what a skipped probe did not judge).
    checks: tuple[str, ...] = ()
    #: The operationIds it needs.
    needs: tuple[str, ...] = ()


@dataclass
class ContractResult:
    """The verdict of a run and what it is based on."""

    exit_code: int
    reason: str
    findings: list[Finding] = field(default_factory=list)
    probes: list[ProbeResult] = field(default_factory=list)
    #: The probes' requests and how many of them were answered 429.
    probe_requests: int = 0
    probe_limited: int = 0
    schemathesis: StRunOutcome | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    token_url: str = ""
    client_id: str = ""
    base_url: str = ""
    #: Operations of the selection that answered only 404/405/501: label -> why.
    not_implemented: dict[str, str] = field(default_factory=dict)
    #: Checks left out of the run on purpose: name -> why (``--checks``/``--exclude-checks``).
    skipped_checks: dict[str, str] = field(default_factory=dict)
    #: What the run created on the target, and whether it was removed.
    ledger: Ledger | None = None
    coverage: Coverage | None = None
    #: Coverage floors that were not met: (dimension, floor, measured).
    below_floor: list[tuple[str, float, float]] = field(default_factory=list)
    #: When the run started (``time.monotonic()``): the reports show the real duration.
    started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @property
    def skipped_probes(self) -> list[ProbeResult]:
        return [p for p in self.probes if p.skipped]

    @property
    def run_probes(self) -> list[ProbeResult]:
        return [p for p in self.probes if not p.skipped]
