"""The verdict of a finished run: an exit code and its one-line reason.

0 when everything holds; 1 when a check or probe failed, a coverage floor was
not met, or the run was mostly answered 429 (nothing was really tested); 2 when
Schemathesis could not run at all. The failure count of the reason is the
number of failing test cases in ``junit.xml`` (``output/cases.py`` builds both).
"""

from __future__ import annotations

from collections import Counter

from pin_mock.contract.findings import group_causes
from pin_mock.contract.output.cases import failing_cases
from pin_mock.contract.result import ContractResult

#: A run whose answers are more than this share of 429s proves nothing: it fails.
MAX_429_SHARE = 0.5
ADVICE_429 = "lower --rate-limit or use a client with a higher tier"


def verdict(result: ContractResult, max_429_share: float = MAX_429_SHARE) -> tuple[int, str]:
    """(exit code, one-line reason) for a finished run."""
    st = result.schemathesis
    if st is not None and st.fatal and not st.cases:
        return 2, f"Schemathesis could not run: {st.fatal}"
    starved = _starved(result, max_429_share)
    if starved:
        return 1, starved
    if result.findings:
        return 1, _failures(result)
    if result.below_floor:
        floors = ", ".join(
            f"{name} {measured:.0f}% < {floor:g}%" for name, floor, measured in result.below_floor
        )
        return 1, f"coverage below the floor: {floors} (--min-coverage)"
    if st is not None and st.errors:
        return 1, f"errors during the Schemathesis run: {'; '.join(st.errors)}"
    if st is not None and st.exit_code != 0:
        return 1, (
            f"Schemathesis exited with {st.exit_code} (see schemathesis/output.txt in --report-dir)"
        )
    if st is not None and st.operations_tested == 0:
        return 2, "Schemathesis tested no operation"
    return 0, _passed(result)


def _starved(result: ContractResult, max_share: float) -> str:
    st = result.schemathesis
    if st is not None:
        total, limited = st.responses, st.statuses.get(429, 0)
        if total and limited / total > max_share:
            return (
                f"the run was dominated by 429 Too Many Requests ({limited} of {total} answers): "
                f"nothing was really tested; {ADVICE_429}"
            )
        starved = st.warnings.get("rate_limited")
        if starved:
            more = ", ..." if len(starved) > 3 else ""
            return (
                f"{len(starved)} operations were answered mostly with 429 Too Many Requests "
                f"({', '.join(starved[:3])}{more}): they were not really tested; {ADVICE_429}"
            )
    if result.probe_requests and result.probe_limited / result.probe_requests > max_share:
        return (
            f"the probes were dominated by 429 Too Many Requests ({result.probe_limited} of "
            f"{result.probe_requests} answers): their findings prove little; use a client "
            "with a higher tier or wait for the window to reset"
        )
    return ""


def _failures(result: ContractResult) -> str:
    causes = group_causes(result.findings)
    checks = Counter(c.check for c in causes)
    listed = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in checks.most_common())
    failing = len(failing_cases(result))
    operations = {f.operation for f in result.findings}
    return (
        f"{failing} failing test case{'s' if failing != 1 else ''} (junit.xml) from "
        f"{len(causes)} cause{'s' if len(causes) != 1 else ''} in {len(operations)} "
        f"operation{'s' if len(operations) != 1 else ''} ({listed})"
    )


def _passed(result: ContractResult) -> str:
    parts = []
    probes = result.run_probes
    if probes:
        parts.append(f"{len(probes)} probes")
    if result.schemathesis is not None:
        st = result.schemathesis
        parts.append(f"{st.cases} generated cases over {st.operations_tested} operations")
    return "the target honours the contract: " + ", ".join(parts or ["nothing selected"])
