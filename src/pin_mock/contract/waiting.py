"""``--wait-for``: wait until the target is up before judging it (a CI job starts both).

Any URL will do: the spec the target serves, a health or readiness endpoint
(``/healthz``, ``/readyz``), or the base URL. A relative one is taken on the
base URL. The target is ready when that URL answers anything below 500 (a
readiness endpoint answers 503 until it is ready); until the deadline,
refused connections, timeouts and 5xx mean "not yet". A 5xx in PIN's error
envelope (the sandbox's ``/readyz`` says which check failed) is reported with its
message, so a run that gives up says why the target was not ready.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urljoin

import httpx

POLL = 0.25


def readiness_url(base_url: str, wait_for: str) -> str:
    if "://" in wait_for:
        return wait_for
    return urljoin(base_url.rstrip("/") + "/", wait_for.lstrip("/"))


def wait_until_ready(
    url: str,
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    get: Callable[..., httpx.Response] | None = None,
) -> tuple[bool, str, float]:
    """(ready, the last thing seen, seconds waited) for ``url`` within ``timeout`` seconds."""
    get = get or (lambda u, **kw: httpx.get(u, **kw))
    started = clock()
    last = "no answer yet"
    while True:
        left = timeout - (clock() - started)
        try:
            answer = get(url, timeout=max(0.5, min(5.0, left)))
            if answer.status_code < 500:
                return True, f"{answer.status_code}", clock() - started
            last = f"answered {answer.status_code}{_reason(answer)}"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}"
        if clock() - started + POLL > timeout:
            return False, last, clock() - started
        sleep(POLL)


#: The most of a not-ready answer's message the kit repeats.
REASON_CHARS = 200


def _reason(answer: httpx.Response) -> str:
    """``: <message>`` of an answer in PIN's error envelope, else nothing."""
    try:
        message = answer.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f": {str(message)[:REASON_CHARS]}" if message else ""
