"""One write per answer (``transport/coalescing.py``), on a recording transport."""

from __future__ import annotations

import asyncio

from pin_mock.server.transport.coalescing import HOLD_BYTES, CoalescingTransport


class Recording(asyncio.Transport):
    """A transport that keeps what was written to it, call by call."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 5000)}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 7


def test_a_head_and_body_leave_in_one_write_when_the_answer_is_complete() -> None:
    async def scenario() -> list[bytes]:
        raw = Recording()
        out = CoalescingTransport(raw, asyncio.get_running_loop())
        out.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        out.write(b"{}")
        assert raw.writes == []  # held
        out.flush()  # what on_response_complete does
        await asyncio.sleep(0)  # the pass's own flush then finds nothing left
        return raw.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]


def test_a_streamed_head_leaves_by_the_end_of_the_loops_pass_without_a_flush() -> None:
    async def scenario() -> list[list[bytes]]:
        raw = Recording()
        out = CoalescingTransport(raw, asyncio.get_running_loop())
        out.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        seen = [list(raw.writes)]
        await asyncio.sleep(0)
        seen.append(list(raw.writes))
        out.write(b"5\r\nhello\r\n")
        await asyncio.sleep(0)
        seen.append(list(raw.writes))
        return seen

    before, after_one_pass, after_a_chunk = asyncio.run(scenario())
    assert before == []
    assert after_one_pass == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"]
    assert after_a_chunk[-1] == b"5\r\nhello\r\n"


def test_close_sends_what_is_held_first_and_abort_drops_it() -> None:
    async def scenario() -> tuple[Recording, Recording]:
        loop = asyncio.get_running_loop()
        closed, aborted = Recording(), Recording()
        for raw in (closed, aborted):
            out = CoalescingTransport(raw, loop)
            out.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n")
            out.close() if raw is closed else out.abort()
        await asyncio.sleep(0)
        return closed, aborted

    closed, aborted = asyncio.run(scenario())
    assert closed.writes == [b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n"]
    assert closed.closed
    assert aborted.writes == [] and aborted.aborted


def test_a_large_body_is_written_as_it_comes_after_what_was_held() -> None:
    async def scenario() -> list[bytes]:
        raw = Recording()
        out = CoalescingTransport(raw, asyncio.get_running_loop())
        out.write(b"head")
        out.write(b"x" * HOLD_BYTES)  # not copied into one buffer with the head
        out.write(b"tail")
        out.flush()
        return raw.writes

    assert asyncio.run(scenario()) == [b"head", b"x" * HOLD_BYTES, b"tail"]


def test_the_rest_is_the_transports() -> None:
    async def scenario() -> CoalescingTransport:
        return CoalescingTransport(Recording(), asyncio.get_running_loop())

    out = asyncio.run(scenario())
    assert out.get_extra_info("peername") == ("127.0.0.1", 5000)
    assert out.is_closing() is False
    assert out.get_write_buffer_size() == 7  # any other method: the transport's own
