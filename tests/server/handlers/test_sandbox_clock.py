"""``/_sandbox/clock``: a clock per client, and everything time-dependent following it.

Every test runs on both engines (``sandboxes.py``); the same scenarios across two
Redis worker processes are in ``tests/multiprocess/test_mp_clock.py``. Nothing
here sleeps to let time pass: the clock is frozen and advanced, and the tests
wait only for work the advance released (polling with a deadline).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from harness import Sandbox
from loopback_receiver import Receiver
from webhook_helpers import create_patient, deliveries, register, verify, wait_until

CLOCK = "/_sandbox/clock"
T0 = "2030-01-01T00:00:00Z"


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).timestamp()


def clock(sb: Sandbox, as_client: str = "sandbox-enterprise") -> dict:
    response = sb.get(CLOCK, as_client=as_client)
    assert response.status_code == 200, response.text
    return response.json()


def moved(sb: Sandbox, response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    # A token's exp is on its client's clock: a jump past it expires it, as an
    # integrator's would. The harness fetches new ones, issued on the moved clock.
    sb._tokens.clear()
    return response.json()


def freeze(sb: Sandbox, at: str | None = T0, as_client: str = "sandbox-enterprise") -> dict:
    body = None if at is None else {"at": at}
    return moved(sb, sb.post(f"{CLOCK}/freeze", json=body, as_client=as_client))


def advance(sb: Sandbox, by: float, as_client: str = "sandbox-enterprise") -> dict:
    return moved(sb, sb.post(f"{CLOCK}/advance", json={"seconds": by}, as_client=as_client))


def test_the_clock_runs_freezes_advances_and_resumes(sandbox: Sandbox) -> None:
    running = clock(sandbox)
    assert (running["frozen"], running["offset_seconds"]) == (False, 0.0)
    assert abs(seconds(running["now"]) - datetime.now(UTC).timestamp()) < 60
    assert freeze(sandbox)["now"] == "2030-01-01T00:00:00.000Z"
    assert clock(sandbox)["now"] == "2030-01-01T00:00:00.000Z"  # frozen: it does not move
    ahead = advance(sandbox, 90.5)
    assert (ahead["now"], ahead["frozen"]) == ("2030-01-01T00:01:30.500Z", True)
    resumed = moved(sandbox, sandbox.post(f"{CLOCK}/resume"))
    assert resumed["frozen"] is False
    assert seconds(resumed["now"]) >= seconds("2030-01-01T00:01:30.500Z")
    assert seconds(clock(sandbox)["now"]) - seconds(T0) < 3600  # runs on from there
    # Freezing without a time stops it where it reads.
    here = freeze(sandbox, None)
    assert here["frozen"] and seconds(here["now"]) >= seconds(resumed["now"])


def test_a_token_expires_when_the_clock_passes_its_exp(sandbox: Sandbox) -> None:
    freeze(sandbox)
    token = sandbox.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-enterprise",
            "client_secret": "sandbox-enterprise-secret",
        },
    ).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert sandbox.get("/v1/patients?limit=1", headers=bearer).status_code == 200
    advance(sandbox, token["expires_in"] - 1)
    assert sandbox.get("/v1/patients?limit=1", headers=bearer).status_code == 200
    advance(sandbox, 1)  # now == exp: expired
    expired = sandbox.get("/v1/patients?limit=1", headers=bearer)
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    assert expired.json()["error"]["message"] == "The access token has expired."
    # The same token still works for a client whose clock did not move? It is this
    # client's token: a fresh one, issued on the moved clock, works.
    fresh = sandbox.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-enterprise",
            "client_secret": "sandbox-enterprise-secret",
        },
    ).json()["access_token"]
    again = sandbox.get("/v1/patients?limit=1", headers={"Authorization": f"Bearer {fresh}"})
    assert again.status_code == 200


def test_an_advance_past_the_reset_refills_the_budget(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sb = sandbox_factory(tier_limits={"standard": 5, "professional": 5, "enterprise": 5})
    statuses = [sb.get("/v1/patients?limit=1").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    spent = sb.get("/v1/patients?limit=1")
    assert spent.status_code == 429
    wait = int(spent.headers["retry-after"])
    now = seconds(clock(sb)["now"])
    reset = int(spent.headers["x-ratelimit-reset"])
    assert 0 < reset - now <= wait + 1
    # An advance short of the reset changes nothing; one past it opens a new window.
    advance(sb, 1)
    assert sb.get("/v1/patients?limit=1").status_code == 429
    advance(sb, wait)
    refilled = sb.get("/v1/patients?limit=1")
    assert refilled.status_code == 200
    assert refilled.headers["x-ratelimit-remaining"] == "4"  # the whole budget, less this call
    # X-RateLimit-Reset is on the client's (advanced) clock.
    assert int(refilled.headers["x-ratelimit-reset"]) > seconds(clock(sb)["now"])


def test_the_clocks_own_budget_is_counted_and_refused_with_the_envelope(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sb = sandbox_factory(tier_limits={"standard": 2, "professional": 2, "enterprise": 2})
    assert [sb.get(CLOCK).status_code for _ in range(3)] == [200, 200, 429]
    refused = sb.get(CLOCK)
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert "retry-after" in refused.headers
    assert sb.get("/v1/patients?limit=1").status_code == 200  # /v1 has its own budget


def test_a_report_requested_while_frozen_stays_pending_until_the_clock_moves(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sb = sandbox_factory(report_delay=2.0)
    freeze(sb)
    body = {"type": "outcomes", "format": "csv", "parameters": {"start_date": "2024-01-01"}}
    report = sb.post("/v1/reports", json=body).json()
    assert report["created_at"] == "2030-01-01T00:00:00Z"
    # The job ran and is held: no amount of real time completes it on a frozen clock.
    sb.http.portal.call(sb.services.report_jobs.drain)
    assert sb.get(f"/v1/reports/{report['id']}").json()["status"] == "pending"
    advance(sb, 0.5)  # not yet due (a second to processing, two to completion)
    sb.http.portal.call(sb.services.report_jobs.drain)
    assert sb.get(f"/v1/reports/{report['id']}").json()["status"] == "pending"
    advance(sb, 2.0)
    done = wait_until(
        lambda: (r := sb.get(f"/v1/reports/{report['id']}").json())["status"] == "completed" and r
    )
    assert done["completed_at"] == "2030-01-01T00:00:02Z"


def test_a_retry_schedule_is_replayed_by_four_advances_in_order(
    sandbox_factory: Callable[..., Sandbox], receiver: Receiver
) -> None:
    # The default schedule: attempt 1, then retries after 0 s, 5 s, 5 min, 30 min and 2 h.
    sb = sandbox_factory(webhook_timeout=2.0)
    receiver.plans["/hook"] = [500]
    start = seconds(freeze(sb)["now"])
    hook = register(sb, receiver.url(), ["patient.created"])
    create_patient(sb)
    receiver.wait_for(2)  # the first attempt, and its retry after 0 s
    assert len(wait_until(lambda: len(deliveries(sb, hook["id"])) == 2 and "ok")) == 2
    expected = [start, start]
    for step in (5, 300, 1800, 7200):
        log = deliveries(sb, hook["id"])
        assert len(receiver.received) == len(log)  # nothing more arrives while frozen
        assert seconds(log[-1]["next_retry_at"]) == expected[-1] + step
        advance(sb, step)
        expected.append(expected[-1] + step)
        count = len(expected)
        receiver.wait_for(count)
        wait_until(lambda count=count: len(deliveries(sb, hook["id"])) == count)
    log = deliveries(sb, hook["id"])
    assert [entry["attempt"] for entry in log] == [1, 2, 3, 4, 5, 6]
    assert [seconds(entry["attempted_at"]) for entry in log] == expected
    assert log[-1]["next_retry_at"] is None  # the last attempt
    # Each attempt the receiver saw is signed with the real time (its replay window's).
    for request in receiver.received:
        assert verify(hook["secret"], request)["type"] == "patient.created"
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1


def test_created_at_follows_the_clock(sandbox: Sandbox, receiver: Receiver) -> None:
    freeze(sandbox, "2031-06-01T12:00:00Z")
    advance(sandbox, 3600)
    hook = register(sandbox, receiver.url(), ["patient.created"])
    assert hook["created_at"] == "2031-06-01T13:00:00Z"
    patient = sandbox.get(f"/v1/patients/{create_patient(sandbox)}").json()
    assert patient["created_at"] == "2031-06-01T13:00:00Z"
    event = verify(hook["secret"], receiver.wait_for(1)[0])
    assert seconds(event["created_at"]) == seconds("2031-06-01T13:00:00Z")
    entry = sandbox.post(
        f"/v1/patients/{patient['id']}/clinical-data",
        json={"data_type": "vitals", "value": {"name": "heart_rate", "value": 71, "unit": "/min"}},
    )
    assert entry.status_code == 201, entry.text
    assert entry.json()["recorded_at"] == "2031-06-01T13:00:00Z"


def test_a_second_client_can_neither_see_nor_move_the_first_clients_clock(
    sandbox: Sandbox,
) -> None:
    freeze(sandbox, T0)
    other = clock(sandbox, as_client="sandbox-professional")
    assert (other["client_id"], other["frozen"]) == ("sandbox-professional", False)
    advance(sandbox, 10, as_client="sandbox-professional")
    moved(sandbox, sandbox.post(f"{CLOCK}/resume", as_client="sandbox-professional"))
    mine = clock(sandbox)
    assert (mine["client_id"], mine["now"], mine["frozen"]) == (
        "sandbox-enterprise",
        "2030-01-01T00:00:00.000Z",
        True,
    )
    # No request names another client's clock: the body takes no client, the path none.
    smuggled = sandbox.post(
        f"{CLOCK}/advance",
        json={"seconds": 5, "client_id": "sandbox-enterprise"},
        as_client="sandbox-professional",
    )
    assert smuggled.status_code == 400
    assert clock(sandbox)["now"] == "2030-01-01T00:00:00.000Z"
    # Without a token, nothing is read or moved.
    for method, path in (("GET", CLOCK), ("POST", f"{CLOCK}/advance")):
        anonymous = sandbox.request(method, path, as_client=None, json={"seconds": 5})
        assert anonymous.status_code == 401
    readonly = sandbox.post(f"{CLOCK}/advance", json={"seconds": 5}, as_client="sandbox-readonly")
    assert readonly.status_code == 403


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("advance", {"seconds": -5}),
        ("advance", {"seconds": 0}),
        ("advance", {"seconds": 1e30}),
        ("advance", {"seconds": 31622401}),
        ("advance", {"seconds": "60"}),
        ("advance", {"seconds": None}),
        ("advance", {"seconds": [1]}),
        ("advance", {}),
        ("advance", None),
        ("freeze", {"at": "yesterday"}),
        ("freeze", {"at": "1999-12-31T23:59:59Z"}),
        ("freeze", {"at": "2100-01-01T00:00:00Z"}),
        ("freeze", {"at": 1700000000}),
    ],
)
def test_hostile_input_is_a_4xx_envelope_and_changes_nothing(
    sandbox: Sandbox, path: str, body: object
) -> None:
    freeze(sandbox, T0)
    response = sandbox.post(f"{CLOCK}/{path}", json=body)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["code"] in {"INVALID_PARAMETER", "INVALID_REQUEST"}
    assert error["message"]
    assert clock(sandbox)["now"] == "2030-01-01T00:00:00.000Z"


def test_raw_junk_and_an_advance_past_2100_are_refused(sandbox: Sandbox) -> None:
    freeze(sandbox, "2099-12-31T00:00:00Z")
    past = sandbox.post(f"{CLOCK}/advance", json={"seconds": 86400 * 2})
    assert past.status_code == 400
    assert "2100-01-01" in past.json()["error"]["message"]
    for raw in (b"{", b'{"seconds": NaN}', b'{"seconds": 1e999}', b"\xff", b'{"seconds": 1}' * 2):
        response = sandbox.post(
            f"{CLOCK}/advance", content=raw, headers={"Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (raw, response.text)
        assert "error" in response.json()
    assert clock(sandbox)["now"] == "2099-12-31T00:00:00.000Z"


def test_a_reset_puts_the_client_back_on_the_real_clock(sandbox: Sandbox) -> None:
    freeze(sandbox, T0)
    assert sandbox.post("/_sandbox/reset").status_code == 200
    back = clock(sandbox)
    assert (back["frozen"], back["offset_seconds"]) == (False, 0.0)


def test_ages_follow_the_clients_clock_and_no_one_elses(sandbox: Sandbox) -> None:
    def bands(as_client: str = "sandbox-enterprise") -> dict[str, int]:
        answer = sandbox.get("/v1/analytics/population-health", as_client=as_client).json()
        return {band["band"]: band["patients"] for band in answer["by_age_band"]}

    now = bands()
    freeze(sandbox, "2090-01-01T00:00:00Z")
    later = bands()
    assert later["80+"] > now["80+"] and sum(later.values()) == sum(now.values())
    assert bands("sandbox-professional") == now
