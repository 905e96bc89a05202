"""Real sandboxes on loopback for the hostile tests where the network is the point.

``serve_sandbox`` runs the app in a thread with exactly the uvicorn
configuration ``pin-mock serve`` uses (``serving.uvicorn_config``), on a free
port; ``start_cli`` runs ``pin-mock serve`` itself in a subprocess (signals,
logging, exit).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from loopback import running
from pin_mock.server.app import create_app
from pin_mock.server.settings import Settings
from pin_mock.server.transport.uvicorn_config import uvicorn_config


@contextmanager
def serve_sandbox(**overrides: Any) -> Iterator[str]:
    """A sandbox with ``overrides`` served as ``pin-mock serve`` would; yields its base URL."""
    settings = Settings(**{"report_delay": 0.0, **overrides})
    config = uvicorn_config(
        create_app(settings), settings, port=0, log_level="error", loop="asyncio"
    )
    with running(config, name="sec-test-server") as url:
        yield url


def address(base_url: str) -> tuple[str, int]:
    host, port = base_url.removeprefix("http://").split(":")
    return host, int(port)


def token(base_url: str, client_id: str = "sandbox-enterprise") -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": f"{client_id}-secret",
    }
    answer = httpx.post(f"{base_url}/oauth/token", data=form, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def read_until_closed(sock: socket.socket, limit: float = 30.0) -> bytes:
    """Everything the server sends until it closes the connection (or ``limit`` s pass)."""
    sock.settimeout(limit)
    received = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open for {limit} s: {received[:200]!r}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CliServer:
    """``pin-mock serve`` in a subprocess; its stderr (the log) is collected in a thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "pin_mock.cli", "serve", "--port", str(self.port), *args]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pin-mock serve exited: {self.lines[-20:]}")
            try:
                httpx.get(f"{self.base_url}/openapi.json", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"pin-mock serve did not answer within {limit} s")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(timeout=10)
