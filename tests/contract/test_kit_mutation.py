"""The kit has teeth: it fails every deliberately broken implementation, for the right reason.

Each mutant is a proxy in front of the real sandbox that breaks one thing. The
quick suite runs the kit focused on what each mutant breaks; the long suite
(``PIN_MOCK_LONG=1``, ``make contract-long``) runs the kit's full default run
against every mutant and reports the kill rate.
"""

from __future__ import annotations

import os

import pytest
import schemathesis.specs.openapi.checks  # noqa: F401 - registers Schemathesis's OpenAPI checks
from schemathesis.checks import CHECKS

from kit_helpers import SPEC, long_runs_enabled
from kit_mutants import MUTANTS as FIRST_MUTANTS
from kit_mutants import Mutant, Proxy
from kit_mutants_blind import BLIND_MUTANTS
from kit_mutants_third import THIRD_MUTANTS
from kit_servers import reset_sandbox, sandbox_app, serve
from pin_mock.contract.checks.catalogue import CHECK_NAMES
from pin_mock.contract.output.summary import render
from pin_mock.contract.probes import webhooks
from pin_mock.contract.probes.catalogue import probe_check_names

#: Every broken implementation: the first edition's, the blind spots' (issue 11) and one per
#: class of defect a third hidden set survived (issue 21).
MUTANTS = [*FIRST_MUTANTS, *BLIND_MUTANTS, *THIRD_MUTANTS]


SECOND_CLIENT = {
    "second_client_id": "sandbox-professional",
    "second_client_secret": "sandbox-professional-secret",
}


#: How long the webhook probe waits, against a mutant, for a delivery, its retry or its log
#: entry (the kit's own bounds are 30 s). A broken implementation's missing retry or
#: unlogged delivery never comes, so the full 30 s (twice for ``delivery-id-mismatch``)
#: proved nothing 10 s does not: here deliveries, retries (``webhook_retry_factor`` 0.2:
#: the first after about a second) and log entries are there within a second or two.
#: The unbroken sandbox's focused runs keep the kit's own bounds.
MUTANT_WEBHOOK_WAIT = 10.0
#: How long the probe watches a deleted webhook for stray deliveries (the kit: 3 s), against
#: every mutant but the one that sends them (``webhook-after-delete``, 0.5 s after the delete:
#: it keeps the kit's 3 s). For the others the watch is not what kills them (about ten
#: mutants' focus holds the webhook probe: the tenancy leaks, the broken deliveries).
MUTANT_QUIET_WATCH = 1.0
#: The mutants whose kill is the quiet watch itself.
WATCHED_AFTER_DELETE = {"webhook-after-delete"}


@pytest.fixture
def mutant_webhook_waits(monkeypatch: pytest.MonkeyPatch, mutant: Mutant) -> None:
    if mutant.name not in WATCHED_AFTER_DELETE:
        monkeypatch.setattr(webhooks, "QUIET_WATCH", MUTANT_QUIET_WATCH)
    original = webhooks._run

    def run(ctx, receiver, base):
        ctx.webhook_wait = MUTANT_WEBHOOK_WAIT
        return original(ctx, receiver, base)

    monkeypatch.setattr(webhooks, "_run", run)
    monkeypatch.setattr(webhooks, "LOG_WAIT", MUTANT_WEBHOOK_WAIT)


def killed_for_the_right_reason(mutant: Mutant, result) -> bool:
    if "rate-limited run" in mutant.kills:
        return result.exit_code == 1 and "429" in result.reason
    found = {f.check for f in result.findings}
    return result.exit_code == 1 and bool(found & mutant.kills)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_kit_fails_a_broken_implementation(mutant, sandbox_url, run_kit, mutant_webhook_waits):
    reset_sandbox(sandbox_url)
    proxy = Proxy(sandbox_url, mutant)
    with serve(proxy) as url:
        proxy.state["url"] = url  # the webhook mutants relay deliveries through themselves
        result = run_kit(url, **mutant.focus)
    assert killed_for_the_right_reason(mutant, result), (
        f"mutant {mutant.name} ({mutant.breaks}) survived or died of the wrong cause; "
        f"wanted one of {sorted(mutant.kills)}\n{render(result)}"
    )


def _distinct_probe_focuses() -> list[dict]:
    found: list[dict] = []
    for mutant in [*BLIND_MUTANTS, *THIRD_MUTANTS]:
        if mutant.focus not in found:
            found.append(mutant.focus)
    return found


@pytest.mark.parametrize(
    "focus", _distinct_probe_focuses(), ids=lambda f: "+".join(f["include"])[:60]
)
def test_the_unbroken_sandbox_passes_each_focused_run(focus, sandbox_url, run_kit):
    """A mutant's focused run finds nothing on the real sandbox: its kill is the mutant's doing."""
    reset_sandbox(sandbox_url)
    result = run_kit(sandbox_url, **focus)
    assert result.exit_code == 0, render(result)


def test_every_mutant_is_killed_by_checks_the_kit_has():
    """A ``kills`` name that no check reports would make its mutant unkillable (or a typo)."""
    known = (
        set(CHECK_NAMES)
        | probe_check_names(SPEC)
        | set(CHECKS.get_all_names())  # Schemathesis's own checks
        | {"rate-limited run"}  # the verdict on a run dominated by 429s
    )
    assert len({m.name for m in MUTANTS}) == len(MUTANTS) >= 35
    unknown = {m.name: sorted(m.kills - known) for m in MUTANTS if m.kills - known}
    assert unknown == {}


@pytest.mark.slow
@pytest.mark.skipif(
    not long_runs_enabled(), reason="long run: set PIN_MOCK_LONG=1 (make contract-long)"
)
def test_full_runs_kill_every_mutant(run_kit, capsys):
    """The default run, unfocused, against every mutant: the kill rate reported in the README.

    Each mutant gets a fresh sandbox: a full run leaves thousands of deliveries to the
    webhooks Schemathesis registered, and the next run's own deliveries would queue
    behind them.
    """
    survivors = []
    # PIN_MOCK_MUTANTS=name,name runs only those (to re-check a few after a change).
    chosen = {n for n in os.environ.get("PIN_MOCK_MUTANTS", "").split(",") if n}
    for mutant in [m for m in MUTANTS if not chosen or m.name in chosen]:
        with serve(sandbox_app()) as sandbox_url:
            proxy = Proxy(sandbox_url, mutant)
            with serve(proxy) as url:
                proxy.state["url"] = url
                result = run_kit(url, max_examples=5, **SECOND_CLIENT)
        if not killed_for_the_right_reason(mutant, result):
            found = sorted({f.check for f in result.findings})
            survivors.append(f"{mutant.name}: exit {result.exit_code} ({result.reason}) {found}")
        with capsys.disabled():
            print(
                f"\n{mutant.name:<26} exit {result.exit_code}  {result.seconds:5.1f} s  {result.reason[:90]}"
            )
    total = len(chosen) or len(MUTANTS)
    with capsys.disabled():
        print(f"\nkill rate: {total - len(survivors)}/{total}")
    assert not survivors, "\n".join(survivors)
