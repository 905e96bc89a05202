"""``pin-mock contract replay FILE``: re-send the failures a run recorded, judge them again.

``failures.har`` (written by every run with ``--report-dir``) is the cassette:
each entry is a failing request with the check that failed and the operation.
A replay re-sends each request, to ``--base-url`` if given (else where it went
first), with a fresh token in place of the filtered one, and judges the answer
with the same check:

- PIN's registered checks and Schemathesis's response checks, on the new answer;
- checks that say what the answer should be (``negative_data_rejection``...), by
  its status;
- a probe's finding, by running that probe again (a probe is a scenario, not
  one request): fixed when the probe no longer reports that check there;
- checks that judge a sequence (``use_after_free``...) cannot be judged from one
  request: the replay says so, and counts them as not shown fixed.

Exit status: 0 when every failure is fixed, 1 otherwise, 2 for a usage problem.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from pin_mock.contract.conformance import EXPECTED, RESPONSE_CHECKS, SEQUENCES, Judge
from pin_mock.contract.examples import default_source, documented_examples
from pin_mock.contract.findings import FILTERED, SECRETS, Finding
from pin_mock.contract.output.har import read_har
from pin_mock.contract.probes.catalogue import all_probes
from pin_mock.contract.probes.framework import ProbeContext, run_probes
from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from pin_mock.contract.spec import Spec, SpecError, bundled_spec_path
from pin_mock.contract.target import Target
from pin_mock.contract.tokens import Credentials, TokenError, TokenSource


@dataclass
class ReplayOptions:
    cassette: Path
    base_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    spec: Path | None = None
    request_timeout: float = 10.0


@dataclass
class Verdict:
    finding: Finding
    state: str  # fixed, failing, unknown
    why: str = ""


@dataclass
class ReplayOutcome:
    verdicts: list[Verdict] = field(default_factory=list)
    problem: str = ""

    @property
    def exit_code(self) -> int:
        if self.problem:
            return 2
        return 0 if all(v.state == "fixed" for v in self.verdicts) else 1

    def render(self) -> str:
        if self.problem:
            return f"Error: {self.problem}"
        fixed = sum(v.state == "fixed" for v in self.verdicts)
        lines = [f"pin-mock contract replay: {fixed} of {len(self.verdicts)} failures fixed"]
        for v in self.verdicts:
            lines.append(f"  {v.state.upper():<8} {v.finding.operation}  [{v.finding.check}]")
            if v.why:
                lines.append(f"           {v.why}")
        return "\n".join(lines)


def replay_cassette(options: ReplayOptions) -> ReplayOutcome:
    try:
        findings = read_har(options.cassette)
        spec = Spec.load(options.spec or bundled_spec_path())
    except (ValueError, SpecError) as exc:
        return ReplayOutcome(problem=str(exc))
    if not findings:
        return ReplayOutcome()
    base_url = (
        options.base_url or _origin(findings[0].request.url if findings[0].request else "")
    ).rstrip("/")
    client_id = options.client_id or DEFAULT_CLIENT_ID
    client_secret = options.client_secret or (
        DEFAULT_CLIENT_SECRET if not options.client_id else ""
    )
    tokens = TokenSource(Credentials.for_target(base_url, spec.token_url, client_id, client_secret),
                         timeout=options.request_timeout)  # fmt: skip
    try:
        token = tokens.token()
    except TokenError as exc:
        return ReplayOutcome(problem=str(exc))
    SECRETS.add(client_secret, token)
    judge = Judge(spec)
    outcome = ReplayOutcome()
    by_probe: dict[str, list[Finding]] = {}
    with httpx.Client(timeout=options.request_timeout, follow_redirects=False) as client:
        for finding in findings:
            if finding.source == "probe" and finding.probe:
                by_probe.setdefault(finding.probe, []).append(finding)
                continue
            outcome.verdicts.append(
                _one(client, judge, finding, base_url, token, client_id, client_secret)
            )
    if by_probe:
        outcome.verdicts += _probes(
            spec, options, by_probe, base_url, tokens, client_id, client_secret
        )
    return outcome


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _one(client: httpx.Client, judge: Judge, finding: Finding, base_url: str, token: str,
         client_id: str, secret: str) -> Verdict:  # fmt: skip
    if finding.check in SEQUENCES:
        return Verdict(finding, "unknown", "judged over a sequence of requests: run the kit again")
    request = finding.request
    if request is None:
        return Verdict(finding, "unknown", "the cassette has no request for it")
    parts = urlsplit(request.url)
    url = base_url + urlunsplit(("", "", parts.path, parts.query, ""))
    headers = {}
    for name, value in request.headers.items():
        if name.lower() in ("content-length", "host", "connection", "accept-encoding"):
            continue
        if name.lower() == "authorization" and value == FILTERED:
            value = f"Bearer {token}"
        elif name.lower() == "authorization" and value == f"Basic {FILTERED}":
            value = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        headers[name] = value
    body = request.body.replace(FILTERED.encode(), secret.encode()) if request.body else None
    try:
        response = client.request(request.method, url, headers=headers, content=body)
    except httpx.HTTPError as exc:
        return Verdict(finding, "failing", f"{type(exc).__name__}: {exc}")
    if finding.check in EXPECTED:
        rule, meaning = EXPECTED[finding.check]
        ok = rule(response.status_code) and (
            finding.check != "allow_header_conformance" or "allow" in response.headers
        )
        return Verdict(
            finding, "fixed" if ok else "failing", f"now {response.status_code}; wanted {meaning}"
        )
    if finding.check in RESPONSE_CHECKS:
        failures = judge.schemathesis(response, [finding.check])
    else:
        failures = [f for f in judge.pin(judge.exchange(response)) if f[0] == finding.check]
    if failures:
        return Verdict(
            finding, "failing", f"now {response.status_code}: {failures[0][1].splitlines()[0]}"
        )
    return Verdict(finding, "fixed", f"now {response.status_code}")


def _probes(spec: Spec, options: ReplayOptions, by_probe: dict[str, list[Finding]], base_url: str,
            tokens: TokenSource, client_id: str, secret: str) -> list[Verdict]:  # fmt: skip
    """Run each probe that reported a failure again; a finding is fixed when it is not reported again."""
    examples = documented_examples(spec, default_source(options.spec or bundled_spec_path()))
    probes = {p.name: p for p in all_probes(spec, list(spec.operations), examples)}
    verdicts = []
    target = Target(base_url, tokens, spec, timeout=options.request_timeout)
    try:
        ctx = ProbeContext(target, list(spec.operations), client_id, secret, examples=examples)
        for name, findings in by_probe.items():
            probe = probes.get(name)
            if probe is None:
                verdicts += [
                    Verdict(f, "unknown", f"no probe named {name!r} in this kit") for f in findings
                ]
                continue
            (result,) = run_probes(ctx, [probe])
            if result.skipped:
                verdicts += [
                    Verdict(f, "unknown", f"probe skipped: {result.skipped}") for f in findings
                ]
                continue
            again = {(f.operation, f.check) for f in result.findings}
            for f in findings:
                state = "failing" if (f.operation, f.check) in again else "fixed"
                verdicts.append(Verdict(f, state, f"probe {name!r} run again"))
    finally:
        target.close()
    return verdicts
