"""Events on demand and resends on Redis with two workers, through ``pin-mock listen``.

``pin-mock serve --workers 2 --state redis://``: an event triggered on one
worker and resent on the other is the same event (the archive is shared);
both reach the app through ``listen``, signed, and verify.
"""

from __future__ import annotations

import signal
import time

from mp_procs import BOUND, Serve, pinned, request, token

from cli_procs import Running
from verifying_app import VerifyingApp


def test_an_event_triggered_on_one_worker_is_resent_by_the_other(redis_url: str) -> None:
    server = Serve("--state", redis_url, "--workers", "2").wait_ready()
    app = VerifyingApp()
    listen = None
    try:
        listen = Running("listen", "--forward-to", app.url(), "--base-url", server.base_url)
        ready = listen.wait_line(lambda line: line.startswith("Ready!"), timeout=BOUND)
        app.secret = ready.split()[6]
        bearer = token(server.base_url)
        (_, [on_a]), (_, [on_b]) = pinned(server).items()
        status, _, event = request(
            server.base_url,
            "POST",
            "/_sandbox/events",
            token=bearer,
            body={"type": "report.completed"},
            conn=on_a,
        )
        assert status == 202, event
        (first,) = app.wait_for(1)
        assert first.event is not None and first.event["id"] == event["id"]
        path = f"/_sandbox/events/{event['id']}/resend"
        deadline = time.monotonic() + BOUND
        while True:  # the first delivery's answer may still be on its way to the log (409)
            status, _, again = request(server.base_url, "POST", path, token=bearer, conn=on_b)
            if status != 409 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 202, again
        second = app.wait_for(2)[1]
        assert second.event is not None and second.body == first.body
        assert second.headers["webhook-id"] == event["id"]
        # Another client has no such event, on either worker.
        other = token(server.base_url, "sandbox-standard")
        status, _, refused = request(server.base_url, "POST", path, token=other, conn=on_a)
        assert status == 404, refused
    finally:
        if listen is not None:
            assert listen.stop(signal.SIGTERM) == 0
            assert any(line.endswith("removed") for line in listen.lines), listen.lines
        app.close()
        server.stop()
