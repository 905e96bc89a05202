"""A ``redis-server`` of one test's own, on a free port: stopped, frozen and restarted at will.

For the outage tests (``/readyz`` failing fast, metrics of a lost Redis): the
machine's Redis on 6379 is never stopped. Skipped with the reason when
``redis-server`` is not installed (failed under ``PIN_MOCK_REQUIRE_REDIS=1``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

BOUND = 20.0  # seconds: generous, never a timing assertion


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """``redis-server`` on a free loopback port, its files in ``directory``."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            message = "redis-server is not installed: the outage tests need one of their own"
            if os.environ.get("PIN_MOCK_REQUIRE_REDIS") == "1":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "yes", "--dir", str(self.directory), "--daemonize", "no"]
        self.process = subprocess.Popen(
            ["redis-server", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + BOUND
        while not self._pong():
            assert time.monotonic() < deadline, "the private redis-server never answered"
            time.sleep(0.05)

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stopped (SIGTERM, then waited for): connections are refused."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # in case it was frozen
            self.process.terminate()
            self.process.wait(BOUND)
            self.process = None

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted and nothing answers (a hung Redis)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)
