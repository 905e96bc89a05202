"""``/_sandbox/chaos``: each client's own, validated like /v1, reproducible (both engines).

In process, the faults that keep the connection (``malformed_json``,
``slow_body``) show in the answer; those that end it are tested on a real
socket (``tests/server/transport/test_faults_on_the_wire.py``).
"""

from __future__ import annotations

import logging
import time

import pytest

from harness import Sandbox
from pin_mock.server.domain.chaos import FAULTS, ChaosSetting, decide
from pin_mock.server.pipeline.faults import MALFORMED_TAIL

CHAOS = "/_sandbox/chaos"
ONE = "/v1/patients/patient_123"


def faulted(sandbox: Sandbox, count: int, client: str = "sandbox-enterprise") -> list[bool]:
    """Which of ``count`` requests came back malformed (the only fault of these tests)."""
    seen = []
    for _ in range(count):
        answer = sandbox.get(ONE, as_client=client, check=False)
        assert answer.status_code == 200
        seen.append(answer.content.endswith(MALFORMED_TAIL))
    return seen


def test_off_until_set_then_shown_then_off_again(sandbox: Sandbox) -> None:
    assert sandbox.get(CHAOS).json() == {"client_id": "sandbox-enterprise", "enabled": False}
    body = {"probability": 0.25, "faults": ["malformed_json"], "seed": 9}
    stored = sandbox.request("PUT", CHAOS, json=body)
    assert stored.status_code == 200, stored.text
    assert stored.json() == {
        "client_id": "sandbox-enterprise",
        "enabled": True,
        "probability": 0.25,
        "faults": ["malformed_json"],
        "operations": [],
        "seed": 9,
        "slow_body_ms": 2000,
        "requests_seen": 0,
    }
    faulted(sandbox, 3)
    assert sandbox.get(CHAOS).json()["requests_seen"] == 3
    assert sandbox.delete(CHAOS).json() == {"client_id": "sandbox-enterprise", "enabled": False}
    assert faulted(sandbox, 5) == [False] * 5
    assert sandbox.get(CHAOS).json()["enabled"] is False


def test_every_fault_at_once_is_a_setting(sandbox: Sandbox) -> None:
    body = {"probability": 0.5, "faults": list(FAULTS), "seed": 3}
    stored = sandbox.request("PUT", CHAOS, json=body)
    assert stored.status_code == 200, stored.text
    assert stored.json()["faults"] == list(FAULTS)


def test_seeded_chaos_gives_the_same_faults_in_the_same_order_on_two_runs(
    sandbox: Sandbox,
) -> None:
    body = {"probability": 0.5, "faults": ["malformed_json"], "seed": 20}
    runs = []
    for _ in range(2):
        assert sandbox.request("PUT", CHAOS, json=body).status_code == 200
        runs.append(faulted(sandbox, 24))
    assert runs[0] == runs[1]
    # ... and they are the documented function of the seed and the request's number.
    setting = ChaosSetting.from_dict({**body, "operations": []})
    assert runs[0] == [decide(setting, n).fault is not None for n in range(1, 25)]
    assert 4 <= sum(runs[0]) <= 20


def test_a_second_clients_chaos_never_touches_the_first(sandbox: Sandbox) -> None:
    every = {"probability": 1.0, "faults": ["malformed_json"], "seed": 1}
    assert (
        sandbox.request("PUT", CHAOS, json=every, as_client="sandbox-professional").status_code
        == 200
    )
    assert faulted(sandbox, 5) == [False] * 5  # the enterprise client: untouched
    assert faulted(sandbox, 2, "sandbox-professional") == [True, True]
    # Nor does it see or count the other's: its own is off, the other's count is its own.
    assert sandbox.get(CHAOS).json()["enabled"] is False
    other = sandbox.get(CHAOS, as_client="sandbox-professional").json()
    assert other["requests_seen"] == 2
    assert sandbox.delete(CHAOS).json()["enabled"] is False  # deletes only its own
    assert sandbox.get(CHAOS, as_client="sandbox-professional").json()["enabled"] is True


def test_chaos_covers_only_the_operations_listed_and_never_the_sandbox_or_token(
    sandbox: Sandbox,
) -> None:
    body = {"probability": 1.0, "faults": ["malformed_json"], "operations": ["listPatients"]}
    assert sandbox.request("PUT", CHAOS, json=body).status_code == 200
    assert faulted(sandbox, 2) == [False, False]  # getPatient: not listed
    listed = sandbox.get("/v1/patients?limit=1", check=False)
    assert listed.content.endswith(MALFORMED_TAIL)
    everything = {"probability": 1.0, "faults": ["malformed_json"]}
    assert sandbox.request("PUT", CHAOS, json=everything).status_code == 200
    assert sandbox.get(CHAOS).json()["enabled"] is True  # /_sandbox: never covered
    token = sandbox.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-enterprise",
            "client_secret": "sandbox-enterprise-secret",
        },
    )
    assert token.status_code == 200 and token.json()["access_token"]


def test_a_slow_body_arrives_whole(sandbox: Sandbox) -> None:
    body = {"probability": 1.0, "faults": ["slow_body"], "slow_body_ms": 50}
    assert sandbox.request("PUT", CHAOS, json=body).status_code == 200
    answer = sandbox.get(ONE)  # checked against the spec: the body is intact
    assert answer.json()["id"] == "patient_123"


def test_every_fault_is_marked_and_logged(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pin_mock.faults"):
        answer = sandbox.get(ONE, headers={"Prefer": "fault=malformed_json"}, check=False)
    assert answer.content.endswith(MALFORMED_TAIL)
    [record] = [r for r in caplog.records if r.name == "pin_mock.faults"]
    assert record.fault == "malformed_json" and record.fault_source == "prefer"
    assert record.client == "sandbox-enterprise" and record.operation == "getPatient"


def test_prefer_fault_needs_the_operations_token_and_scope(sandbox: Sandbox) -> None:
    prefer = {"Prefer": "fault=malformed_json"}
    assert sandbox.get(ONE, as_client=None, headers=prefer).status_code == 401
    # The token first, as every Prefer scenario: no token and a bad fault is still 401.
    bad = {"Prefer": "fault=unplug"}
    assert sandbox.get(ONE, as_client=None, headers=bad).status_code == 401
    readonly = sandbox.post(
        "/v1/patients",
        as_client="sandbox-readonly",
        headers=prefer,
        json={"name": "Ann Lee", "date_of_birth": "1990-01-01"},
    )
    assert readonly.status_code == 403


@pytest.mark.parametrize(
    "prefer",
    [
        "fault=unplug",
        "fault=",
        "fault=slow_body; ms=-1",
        "fault=slow_body; ms=²",
        "fault=slow_body; ms=99999999999",
        "delay=uniform; min_ms=9; max_ms=1",
        "delay=lognormal; median_ms=1; max_ms=2; sigma=1e308",
        "delay=fixed; ms=10001",
        "delay=uniform; min_ms=1",
    ],
)
def test_a_bad_prefer_fault_or_delay_is_400(sandbox: Sandbox, prefer: str) -> None:
    answer = sandbox.get(ONE, headers={"Prefer": prefer.encode("latin-1")})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "INVALID_PARAMETER"
    assert "Prefer" in answer.json()["error"]["message"] or answer.json()["error"]["details"]


@pytest.mark.parametrize(
    "body",
    [
        {"probability": 1.5, "faults": ["empty_response"]},
        {"probability": -0.1, "faults": ["empty_response"]},
        {"probability": "1", "faults": ["empty_response"]},
        {"faults": ["empty_response"]},
        {"probability": 0.5, "faults": ["unplug"]},
        {"probability": 0.5, "faults": "empty_response"},
        {"probability": 0.5, "faults": ["empty_response"] * 7},
        {"probability": 0.5, "faults": [*FAULTS, "empty_response"]},
        {"probability": 0.5, "faults": ["empty_response"], "operations": ["x" * 65]},
        {"probability": 0.5, "faults": ["empty_response"], "operations": ["noSuchOperation"]},
        {"probability": 0.5, "faults": ["empty_response"], "operations": ["issueToken"]},
        {"probability": 0.5, "faults": ["empty_response"], "operations": ["deleteChaos"]},
        {"probability": 0.5, "faults": ["empty_response"], "seed": -1},
        {"probability": 0.5, "faults": ["empty_response"], "seed": 2**53},
        {"probability": 0.5, "faults": ["empty_response"], "seed": 10**40},
        {"probability": 0.5, "faults": ["empty_response"], "extra": 1},
        {"probability": 0.5, "delay": {"distribution": "fixed", "ms": 600_001}},
        {"probability": 0.5, "delay": {"distribution": "fixed", "ms": 10_001}},
        {"probability": 0.5, "delay": {"distribution": "uniform", "min_ms": 1}},
        {
            "probability": 0.5,
            "delay": {"distribution": "lognormal", "median_ms": 1, "max_ms": 2, "sigma": 9},
        },
        {"probability": 0.5},
        [],
        "chaos",
    ],
)
def test_hostile_settings_are_400_and_change_nothing(sandbox: Sandbox, body: object) -> None:
    before = {"probability": 0.1, "faults": ["malformed_json"], "seed": 5}
    assert sandbox.request("PUT", CHAOS, json=before).status_code == 200
    answer = sandbox.request("PUT", CHAOS, json=body)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()["error"]) == {"code", "message", "details"}
    shown = sandbox.get(CHAOS).json()
    assert (shown["probability"], shown["seed"]) == (0.1, 5)


def test_chaos_needs_a_token_and_takes_none_of_another_kind(sandbox: Sandbox) -> None:
    for method in ("GET", "PUT", "DELETE"):
        answer = sandbox.request(method, CHAOS, as_client=None, json={"probability": 1})
        assert answer.status_code == 401, (method, answer.text)
    bad = sandbox.request("GET", CHAOS, as_client=None, headers={"Authorization": "Bearer x.y.z"})
    assert bad.status_code == 401
    raw = sandbox.request(
        "PUT",
        CHAOS,
        content=b"\xff\xfe{",
        headers={"Content-Type": "application/json"},
    )
    assert raw.status_code == 400
    assert sandbox.request("POST", CHAOS, json={}).status_code == 405


def test_chaos_requests_count_against_the_clients_budget(sandbox_factory) -> None:
    sandbox = sandbox_factory(tier_limits={"standard": 3, "professional": 3, "enterprise": 3})
    body = {"probability": 0.0, "faults": ["empty_response"]}
    seen = [sandbox.request("PUT", CHAOS, json=body) for _ in range(2)]
    assert [a.headers["X-RateLimit-Remaining"] for a in seen] == ["2", "1"]
    assert sandbox.get(CHAOS).headers["X-RateLimit-Remaining"] == "0"
    refused = sandbox.request("DELETE", CHAOS)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert sandbox.get(CHAOS, as_client="sandbox-readonly").status_code == 200  # its own budget


def test_a_chaos_delay_is_waited_before_every_covered_answer(sandbox: Sandbox) -> None:
    body = {"probability": 0.0, "delay": {"distribution": "fixed", "ms": 300}}
    stored = sandbox.request("PUT", CHAOS, json=body)
    assert stored.json()["delay"] == {"distribution": "fixed", "ms": 300}
    started = time.monotonic()
    assert sandbox.get(ONE).status_code == 200
    assert time.monotonic() - started >= 0.3  # never sooner (no upper bound assumed)
    assert sandbox.get(CHAOS).status_code == 200
    assert sandbox.request("DELETE", CHAOS).status_code == 200


def test_prefer_delay_takes_a_distribution(sandbox: Sandbox) -> None:
    started = time.monotonic()
    answer = sandbox.get(ONE, headers={"Prefer": "delay=uniform; min_ms=200; max_ms=250"})
    assert answer.status_code == 200 and time.monotonic() - started >= 0.2
    assert answer.headers["Preference-Applied"] == "delay=uniform"
