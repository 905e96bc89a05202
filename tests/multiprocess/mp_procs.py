"""Real ``pin-mock serve`` processes, a private Redis and a webhook receiver, on loopback.

``Serve`` runs the command itself (the CLI, uvicorn's worker supervisor, the
lifespan), so these tests see what an operator sees. ``pinned`` opens
keep-alive connections until each worker process of a ``--workers N`` server
holds one: the kernel decides which worker accepts a connection, and the
socket's owner is read back from ``/proc`` (Linux), so "worker A" and
"worker B" are known, not hoped for.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Every wait below is bounded by this; none is a timing assumption.
BOUND = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    """``pin-mock serve --port <free> *args`` with ``env``; its log lines kept in ``lines``."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, port: int = 0) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "pin_mock.cli", "serve", "--port", str(self.port), *args]
        full_env = {
            **os.environ,
            "PIN_MOCK_LOG_LEVEL": "info",
            "PIN_MOCK_REPORT_DELAY": "0",
            **(env or {}),
        }
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group: stop() reaches the workers too
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = BOUND) -> Serve:
        """Wait until the server answers (every worker: each of them answers the probe)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pin-mock serve exited: {self.lines[-20:]}")
            try:
                status, _, _ = request(self.base_url, "GET", "/openapi.json")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(
            f"pin-mock serve did not answer within {timeout} s: {self.lines[-20:]}"
        )

    def workers(self) -> list[int]:
        """The worker processes' ids (uvicorn's spawned children), waiting for all of them."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()]
        return [p for p in pids if "resource_tracker" not in _cmdline(p)]

    def stop(self) -> int:
        """SIGTERM (graceful, like an orchestrator), then SIGKILL if it hangs; the exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        return int(self.process.returncode)

    def kill(self) -> None:
        """SIGKILL the whole group: a machine lost, nothing flushed."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def request(
    base_url: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    form: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One request (on ``conn`` if given, else a fresh connection): status, headers, JSON or text."""
    headers: dict[str, str] = {}
    data: bytes | None = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        from urllib.parse import urlencode

        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    own = conn is None
    if conn is None:
        host, port = base_url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=BOUND)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        answer = {k.lower(): v for k, v in response.getheaders()}
    finally:
        if own:
            conn.close()
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return response.status, answer, parsed


def token(base_url: str, client_id: str = "sandbox-enterprise") -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": f"{client_id}-secret",
    }
    status, _, body = request(base_url, "POST", "/oauth/token", form=form)
    assert status == 200, body
    return str(body["access_token"])


def _owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the server end of the connection from ``client_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            inode = fields[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
        except OSError:
            continue
    return None


def pinned(server: Serve, per_worker: int = 1) -> dict[int, list[http.client.HTTPConnection]]:
    """At least ``per_worker`` open keep-alive connections held by each worker process."""
    pids = server.workers()
    held: dict[int, list[http.client.HTTPConnection]] = {pid: [] for pid in pids}
    deadline = time.monotonic() + BOUND
    while any(len(c) < per_worker for c in held.values()):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"connections never reached every worker: { {p: len(c) for p, c in held.items()} }"
            )
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=BOUND)
        status, _, _ = request(server.base_url, "GET", "/docs/", conn=conn)  # not rate-limited
        assert status == 200, status
        assert conn.sock is not None
        owner = _owner(server.port, conn.sock.getsockname()[1], pids)
        if owner is None or len(held[owner]) >= per_worker:
            # Closed at once: a busy machine can hand a hundred connections in a row to
            # one worker, and kept open they would reach its cap of connections from one
            # address (100: transport/connection_limits.py) and make it answer 503.
            conn.close()
        else:
            held[owner].append(conn)
    return held


class Receiver:
    """Records the webhook deliveries POSTed to it; answers ``status`` (200 unless changed)."""

    def __init__(self, port: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0  # every POST, answered 2xx or not
        self.status = 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.attempts += 1
                    status = receiver.status
                    if 200 <= status < 300:
                        receiver.bodies.append(json.loads(raw))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        # shutdown() waits for the next poll: 0.05 s, not the default 0.5 s.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self, event_type: str) -> list[dict[str, Any]]:
        with self.lock:
            return [b for b in self.bodies if b.get("type") == event_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(predicate: Any, what: str, timeout: float = BOUND) -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded generously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class PrivateRedis:
    """A ``redis-server`` of this test's own on a free port, AOF fsync'd on every write.

    Stopping and starting it again (same port, same directory) is a Redis
    outage that keeps every acknowledged write; the system Redis is never touched.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            message = "redis-server is not installed: the Redis outage test is skipped"
            if os.environ.get("PIN_MOCK_REQUIRE_REDIS") == "1":
                pytest.fail(f"{message}; PIN_MOCK_REQUIRE_REDIS=1 requires it", pytrace=False)
            pytest.skip(message)
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "always"]
        cmd += ["--save", "", "--daemonize", "no", "--protected-mode", "yes"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._pong, "the private redis-server to answer")

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def crash(self) -> None:
        """SIGKILL: no save on the way out; only what the AOF already holds survives."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
