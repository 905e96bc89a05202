"""A uvicorn server on a free loopback port, in a thread, for tests where the network is the point."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


@contextmanager
def running(config: uvicorn.Config, *, name: str = "test-server") -> Iterator[str]:
    """Run ``config`` (``port=0``) until the block ends; yields ``http://127.0.0.1:<port>``.

    Give the config ``loop="asyncio"``: a uvloop loop still running in a thread when
    the interpreter exits can crash it (exit 139); the join below makes sure the
    loop has ended.
    """
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        if thread.is_alive():
            raise RuntimeError("the test server did not stop within 60 s")


@contextmanager
def serving(app: object, *, name: str = "test-server") -> Iterator[str]:
    """``running`` for an ASGI app with the settings every such test wants."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, loop="asyncio", log_level="warning")
    with running(config, name=name) as url:
        yield url
