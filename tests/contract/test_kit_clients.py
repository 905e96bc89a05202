"""The kit is fair to any credentials: every sandbox client passes, a second one checks tenancy.

A client without write scopes gets a run that checks reads and expects 403
``FORBIDDEN`` with ``required_scope`` on every write (the scope probe), instead
of calling those 403s failures. The quick tests run the kit's own probes with
each client; the long ones (``make contract-long``) add Schemathesis.
"""

from __future__ import annotations

import textwrap

import pytest

from kit_helpers import long_runs_enabled
from kit_servers import reset_sandbox
from pin_mock.contract.output.summary import render

CLIENTS = ("sandbox-standard", "sandbox-professional", "sandbox-enterprise", "sandbox-readonly")


def as_client(client_id: str) -> dict[str, str]:
    """The client's credentials, and another sandbox client as the tenancy probe's second."""
    second = "sandbox-standard" if client_id == "sandbox-professional" else "sandbox-professional"
    return {
        "client_id": client_id,
        "client_secret": f"{client_id}-secret",
        "second_client_id": second,
        "second_client_secret": f"{second}-secret",
    }


WEBHOOKS = "webhooks end to end: delivered, signed, consistent, retried, logged, stopped"


def probes(result) -> dict[str, str | None]:
    return {p.name: p.skipped for p in result.probes}


@pytest.mark.parametrize("client_id", CLIENTS)
def test_every_sandbox_client_passes_the_probes(client_id, sandbox_url, run_kit):
    reset_sandbox(sandbox_url, client_id)
    result = run_kit(sandbox_url, phases=("probes",), **as_client(client_id))
    assert result.exit_code == 0, render(result)
    ran = probes(result)
    assert ran["scopes enforced: narrower tokens get 403 outside them"] is None
    if client_id == "sandbox-readonly":  # reads checked, writes expected to be 403
        assert "403s expected" in ran["webhook lifecycle: created, listed, deleted, gone"]
        assert ran["paging walk over patients"] is None
    else:
        assert ran["tenancy: a second client sees none of the first's data"] is None
        assert ran[WEBHOOKS] is None


def test_without_a_second_client_tenancy_is_skipped_with_a_reason(sandbox_url, run_kit):
    result = run_kit(sandbox_url, phases=("probes",))
    assert result.exit_code == 0, render(result)
    assert (
        "second client" in probes(result)["tenancy: a second client sees none of the first's data"]
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not long_runs_enabled(), reason="long run: set PIN_MOCK_LONG=1 (make contract-long)"
)
@pytest.mark.parametrize("client_id", CLIENTS)
def test_a_default_run_passes_with_every_sandbox_client(client_id, sandbox_url, run_kit, capsys):
    reset_sandbox(sandbox_url, client_id)
    result = run_kit(sandbox_url, **as_client(client_id))
    with capsys.disabled():
        print(f"\n{client_id}: exit {result.exit_code} in {result.seconds:.1f} s")
        print(textwrap.indent(render(result), "    ")[-3000:])
    assert result.exit_code == 0, render(result)
