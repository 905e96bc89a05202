"""``pin-mock proxy --upstream URL``: forward real traffic and judge every exchange.

Put it between a test suite and an implementation (the sandbox included): each
request is forwarded as it came (hop-by-hop headers aside), each answer sent
back as it came, and afterwards, off the request's path, the exchange is
judged with the kit's checks: the answer by Schemathesis's response checks and
PIN's registered checks (for implementers), the request by
``pin_request_conformance`` (for integrators, ``--judge requests`` or
``both``). On stop (Ctrl-C, SIGTERM, or ``stop()``) it writes its reports:
``summary.txt``, ``junit.xml``, ``failures.har`` (a cassette for ``pin-mock
contract replay``), ``traffic.har`` (every exchange, up to ``MAX_TRAFFIC``),
``coverage.md``/``coverage.json``.

HTTP/1.1 is spoken with ``h11`` (the library under httpx), so a request with
many headers or a large body reaches the implementation as sent; the kit's
base install needs nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import h11
import httpx

from pin_mock.contract.conformance import Judge
from pin_mock.contract.coverage import Observations, measure
from pin_mock.contract.findings import Finding, RecordedRequest, RecordedResponse
from pin_mock.contract.requests_check import CHECK as REQUEST_CHECK
from pin_mock.contract.requests_check import problems
from pin_mock.contract.selection import CheckSelection
from pin_mock.contract.spec import Spec

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                        "trailer", "upgrade", "host", "content-length"})  # fmt: skip
#: Exchanges kept for ``traffic.har`` (the findings' exchanges are always kept).
MAX_TRAFFIC = 5_000
#: The largest request head h11 buffers (a request of many headers must reach the target).
MAX_HEAD = 256 * 1024
JUDGES = ("responses", "requests", "both")


@dataclass
class ProxyOptions:
    upstream: str
    spec: Path
    host: str = "127.0.0.1"
    port: int = 8081
    report_dir: Path | None = None
    judge: str = "responses"
    checks: CheckSelection = field(default_factory=CheckSelection)
    timeout: float = 30.0


@dataclass
class Recorded:
    request: RecordedRequest
    response: RecordedResponse
    label: str


class ValidatingProxy:
    """The proxy: ``start()`` in a thread (tests) or ``serve()`` in the foreground (the CLI)."""

    def __init__(self, options: ProxyOptions) -> None:
        self.options = options
        self.spec = Spec.load(options.spec)
        self.judge = Judge(self.spec, options.checks)
        self.observations = Observations(self.spec)
        self.findings: list[Finding] = []
        self.traffic: list[Recorded] = []
        self.exchanges = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pin-proxy-judge")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.address: tuple[str, int] = (options.host, options.port)

    # -- running ---------------------------------------------------------------

    async def _main(self, on_ready: Callable[[], None] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        async with httpx.AsyncClient(base_url=self.options.upstream, timeout=self.options.timeout,
                                     follow_redirects=False, limits=limits, trust_env=False) as client:  # fmt: skip
            self._server = await asyncio.start_server(
                lambda r, w: self._connection(r, w, client), self.options.host, self.options.port
            )
            self.address = self._server.sockets[0].getsockname()[:2]
            self._ready.set()
            if on_ready is not None:
                on_ready()
            async with self._server:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._server.serve_forever()

    def start(self) -> ValidatingProxy:
        """Serve in a background thread; returns once it listens."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the foreground until interrupted (KeyboardInterrupt or ``stop()``)."""
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(self._main(on_ready))

    def stop(self) -> None:
        """Stop serving and wait until every exchange is judged."""
        if self._loop is not None and self._server is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(10)
        self._pool.shutdown(wait=True)

    @property
    def url(self) -> str:
        return "http://{}:{}".format(*self.address)

    # -- one connection --------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          client: httpx.AsyncClient) -> None:  # fmt: skip
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            while True:
                request = await self._read(connection, reader)
                if request is None:
                    return
                head, body = request
                await self._exchange(connection, writer, client, head, body)
                if (
                    connection.our_state is h11.MUST_CLOSE
                    or connection.their_state is h11.MUST_CLOSE
                ):
                    return
                connection.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read(
        self, connection: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request, bytes] | None:
        head, chunks = None, []
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                connection.receive_data(data)
                if not data and head is None:
                    return None
                continue
            if isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return head, b"".join(chunks)
            elif isinstance(event, h11.ConnectionClosed):
                return None

    async def _exchange(self, connection: h11.Connection, writer: asyncio.StreamWriter, client: httpx.AsyncClient,
                        head: h11.Request, body: bytes) -> None:  # fmt: skip
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers
                   if k.decode("latin-1").lower() not in HOP_BY_HOP]  # fmt: skip
        target = head.target.decode("latin-1")
        method = head.method.decode("ascii")
        try:
            answer = await client.request(method, target, headers=headers, content=body)
        except httpx.HTTPError as exc:
            payload = f'{{"error": "the upstream did not answer: {type(exc).__name__}"}}'.encode()
            await _respond(connection, writer, 502, [("content-type", "application/json")], payload)
            return
        out = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        # Queued before the answer goes back: a stop right after it still judges this exchange.
        self._pool.submit(self._judge, answer, dict(headers), body)
        await _respond(connection, writer, answer.status_code, out, answer.content)

    # -- judging (one thread, in order) ----------------------------------------

    def _judge(self, answer: httpx.Response, sent_headers: dict[str, str], body: bytes) -> None:
        request = answer.request
        _register_credentials(sent_headers)
        url = str(request.url)
        label = self.spec.label_of(request.method, request.url.path)
        recorded = Recorded(
            RecordedRequest.build(request.method, url, sent_headers, body or None),
            RecordedResponse.build(answer.status_code, _lists(answer), answer.content, answer.elapsed.total_seconds()),
            label,
        )  # fmt: skip
        found: list[tuple[str, str]] = []
        if self.options.judge in ("responses", "both"):
            found += self.judge.judge(answer)
        if self.options.judge in ("requests", "both") and self.options.checks.enabled(
            REQUEST_CHECK
        ):
            found += [
                (REQUEST_CHECK, p)
                for p in problems(self.spec, request.method, url, sent_headers, body)
            ]
        observed = self.observations.exchange(
            request.method, url, answer.status_code, list(sent_headers)
        )
        with self._lock:
            self.exchanges += 1
            if len(self.traffic) < MAX_TRAFFIC:
                self.traffic.append(recorded)
            for check, message in found:
                self.findings.append(
                    Finding(label, check, message, recorded.request, recorded.response)
                )
        if observed is not None:
            failed = {check for check, _ in found}
            for check, _rule in self.judge.rules:
                self.observations.check(observed, check.name, check.name not in failed)

    def coverage(self):  # noqa: ANN201 - a Coverage
        return measure(self.spec, self.observations, selected=list(self.spec.operations), not_implemented={},
                       skipped_checks={}, skipped_probe_checks=[], examples={})  # fmt: skip


def _register_credentials(headers: dict[str, str]) -> None:
    """The clients' tokens and Basic credentials passing through are real: redacted in reports."""
    from pin_mock.contract.findings import SECRETS

    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme, _, credential = value.partition(" ")
            if scheme.lower() == "bearer":
                SECRETS.add(credential.strip())
            elif scheme.lower() == "basic":
                import base64
                import binascii

                try:
                    _, _, secret = (
                        base64.b64decode(credential.strip())
                        .decode("utf-8", "replace")
                        .partition(":")
                    )
                except (binascii.Error, ValueError):
                    continue
                SECRETS.add(secret)


def _lists(answer: httpx.Response) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for key, value in answer.headers.multi_items():
        headers.setdefault(key.lower(), []).append(value)
    return headers


async def _respond(connection: h11.Connection, writer: asyncio.StreamWriter, status: int,
                   headers: list[tuple[str, str]], body: bytes) -> None:  # fmt: skip
    headers = [*headers, ("content-length", str(len(body)))]
    data = connection.send(h11.Response(status_code=status, headers=headers))
    data += connection.send(h11.Data(data=body)) or b""
    data += connection.send(h11.EndOfMessage()) or b""
    writer.write(data)
    await writer.drain()


def write_reports(proxy: ValidatingProxy, report_dir: Path) -> str:
    """Write the proxy's report files; return the summary text (also ``summary.txt``)."""
    from pin_mock.contract.findings import dedupe, group_causes
    from pin_mock.contract.output.cases import Case
    from pin_mock.contract.output.coverage_report import coverage_lines, write_coverage
    from pin_mock.contract.output.har import write_har
    from pin_mock.contract.output.junit import write_junit
    from pin_mock.contract.output.text import format_finding

    report_dir.mkdir(parents=True, exist_ok=True)
    findings = dedupe(proxy.findings)
    coverage = proxy.coverage()
    by_pair: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        by_pair.setdefault((finding.operation, finding.check), []).append(finding)
    pairs = {
        (label, check) for label, checks in proxy.observations.checks.items() for check in checks
    }
    cases = [Case("pin-proxy", label, check, findings=by_pair.get((label, check), []))
             for label, check in sorted(pairs | set(by_pair))]  # fmt: skip
    write_junit(report_dir / "junit.xml", {"pin-proxy": cases}, coverage.properties(),
                time.monotonic() - proxy.started)  # fmt: skip
    write_har(report_dir / "failures.har", findings)
    write_har(report_dir / "traffic.har", [
        Finding(r.label, "exchange", f"{r.response.status}", r.request, r.response) for r in proxy.traffic
    ])  # fmt: skip
    write_coverage(coverage, report_dir)
    failing = sum(1 for case in cases if case.failed)
    verdict = "PASSED" if not findings else "FAILED"
    lines = [
        f"pin-mock proxy: {verdict} in front of {proxy.options.upstream}: {proxy.exchanges} exchanges judged "
        f"({proxy.options.judge}), {failing} failing test cases from {len(group_causes(findings))} causes",
        *("  " + line for line in coverage_lines(coverage)),
    ]
    for number, cause in enumerate(group_causes(findings), 1):
        lines.append(f"{number:>3}. {cause.check}: {cause.message}")
        lines.append("       e.g. " + format_finding(cause.example).replace("\n", "\n       "))
    text = "\n".join(lines)
    (report_dir / "summary.txt").write_text(text + "\n", encoding="utf-8")
    return text
