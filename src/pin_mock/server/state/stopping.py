"""Stopping a queue's jobs at shutdown: cancelled until each has stopped.

A job may swallow a cancel without meaning to. On Python 3.11 redis-py writes each
command under ``asyncio.wait_for`` (its socket timeout), and ``wait_for`` returns
normally when the cancel lands just as the write completes: the job then runs on, into
its next wait (a report's delay), and a shutdown that cancelled it once and awaited it
waited for that whole wait (20 s, the lifespan's bound, in one test run of three).
So a job still running after a cancel is cancelled again, until it stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

#: Seconds between two cancels of a job that is still running.
RECANCEL_EVERY = 0.05


async def cancel_until_stopped(tasks: Iterable[asyncio.Task[object]]) -> None:
    """Cancel ``tasks``, again and again while any still runs; return once all have ended."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_EVERY)
