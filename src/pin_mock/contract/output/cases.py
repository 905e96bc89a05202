"""The test cases of a run, as ``junit.xml`` lists them and the verdict counts them.

One place decides what a test case is, so the headline's failure count is the
JUnit file's by construction:

- ``schemathesis``: one per operation and check that Schemathesis ran (classname:
  the operation's ``METHOD /template``, never a concrete id), failing when the
  check found something there; its time is the operation's real request time,
  shared by the checks that judged those requests;
- ``pin-contract-probes``: one per probe (skipped, with its reason, when it did not
  run), or one per operation and check it failed;
- ``pin-contract``: one per coverage floor (failing below it) and one per
  operation the run found not implemented (skipped, with why).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pin_mock.contract.findings import Finding
from pin_mock.contract.result import ContractResult

PROBE_SUITE = "pin-contract-probes"
ST_SUITE = "schemathesis"
RUN_SUITE = "pin-contract"


@dataclass
class Case:
    """One JUnit test case."""

    suite: str
    classname: str
    name: str
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None
    #: A failure that is not a finding (a coverage floor): its message.
    failure: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.findings) or self.failure is not None


def schemathesis_cases(result: ContractResult) -> list[Case]:
    st = result.schemathesis
    if st is None:
        return []
    by_pair: dict[tuple[str, str], list[Finding]] = {}
    for finding in result.findings:
        if finding.source == "schemathesis":
            by_pair.setdefault((finding.operation, finding.check), []).append(finding)
    pairs = sorted(set(st.outcomes) | set(by_pair))
    checks_per_operation: dict[str, int] = {}
    for operation, _ in pairs:
        checks_per_operation[operation] = checks_per_operation.get(operation, 0) + 1
    cases = []
    for operation, check in pairs:
        seconds = st.elapsed.get(operation, 0.0) / checks_per_operation[operation]
        cases.append(Case(ST_SUITE, operation, check, seconds, by_pair.get((operation, check), [])))
    return cases


def probe_cases(result: ContractResult) -> list[Case]:
    cases = []
    for probe in result.probes:
        if not probe.findings:
            cases.append(
                Case(PROBE_SUITE, "probes", probe.name, probe.seconds, skipped=probe.skipped)
            )
            continue
        by_pair: dict[tuple[str, str], list[Finding]] = {}
        for finding in probe.findings:
            by_pair.setdefault((finding.operation, finding.check), []).append(finding)
        for (operation, check), found in sorted(by_pair.items()):
            share = probe.seconds / len(by_pair)
            cases.append(Case(PROBE_SUITE, probe.name, f"{operation} {check}", share, found))
    return cases


def run_cases(result: ContractResult) -> list[Case]:
    cases = []
    for label, why in sorted(result.not_implemented.items()):
        cases.append(Case(RUN_SUITE, label, "implemented", skipped=f"not implemented: {why}"))
    coverage = result.coverage
    if coverage is not None:
        below = {name: (floor, measured) for name, floor, measured in result.below_floor}
        for name, floor in sorted(coverage.floors.items()):
            case = Case(RUN_SUITE, "coverage", f"{name} >= {floor:g}%")
            if name in below:
                case.failure = (
                    f"{name} coverage is {below[name][1]:.1f}%, below the floor {floor:g}%"
                )
            cases.append(case)
    return cases


def all_cases(result: ContractResult) -> dict[str, list[Case]]:
    """The run's test cases by suite (empty suites left out)."""
    suites = {
        ST_SUITE: schemathesis_cases(result),
        PROBE_SUITE: probe_cases(result),
        RUN_SUITE: run_cases(result),
    }
    return {name: cases for name, cases in suites.items() if cases}


def failing_cases(result: ContractResult) -> list[Case]:
    return [case for cases in all_cases(result).values() for case in cases if case.failed]
