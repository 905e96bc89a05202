"""``--wait-for``: a CI job starts the target and the kit together; the kit waits for it."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from kit_servers import sandbox_app
from loopback import running
from pin_mock.contract.waiting import readiness_url, wait_until_ready


def test_a_url_is_ready_when_it_answers_below_500() -> None:
    answers = iter([httpx.ConnectError("refused"), 503, 503, 200])
    now = [0.0]

    def get(url: str, **_: object) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    ready, last, waited = wait_until_ready("http://t/readyz", 10, clock=lambda: now[0],
                                           sleep=lambda s: now.__setitem__(0, now[0] + s), get=get)  # fmt: skip
    assert ready and last == "200" and waited == 0.75
    never = wait_until_ready("http://t/", 1.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s),
                             get=lambda *a, **k: httpx.Response(503))  # fmt: skip
    assert never[:2] == (False, "answered 503")
    envelope = {"error": {"code": "SERVICE_UNAVAILABLE", "message": "Not ready: state: lost."}}
    said = wait_until_ready("http://t/readyz", 1.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s),
                            get=lambda *a, **k: httpx.Response(503, json=envelope))  # fmt: skip
    assert said[:2] == (False, "answered 503: Not ready: state: lost.")
    assert readiness_url("http://t:1/base/", "/readyz") == "http://t:1/base/readyz"
    assert readiness_url("http://t:1", "http://elsewhere/healthz") == "http://elsewhere/healthz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_run_waits_for_a_target_that_starts_late_and_gives_up_in_time(run_kit) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    gone = run_kit(url, wait_for="/openapi.yaml", wait_timeout=0.5)
    assert gone.exit_code == 2 and "was not ready within 0.5 s" in gone.reason
    stop = threading.Event()

    def start_late() -> None:
        time.sleep(1.0)  # the kit is already waiting: nothing listens yet
        config = uvicorn.Config(
            sandbox_app(), host="127.0.0.1", port=port, loop="asyncio", log_level="error"
        )
        with running(config):
            stop.wait(120)

    thread = threading.Thread(target=start_late, daemon=True)
    thread.start()
    try:
        result = run_kit(
            url,
            wait_for="/openapi.yaml",
            wait_timeout=60,
            include=("listPatients",),
            phases=("probes",),
        )
    finally:
        stop.set()
        thread.join(60)
    assert result.exit_code == 0, result.reason
