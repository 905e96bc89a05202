"""The kit's webhook receiver: records deliveries, fails on request, waits with a bound."""

from __future__ import annotations

import httpx

from pin_mock.contract.receiver import Receiver


def test_the_receiver_records_deliveries_and_fails_when_told():
    with Receiver() as receiver:
        base = "http://{}:{}".format(*receiver.address)
        receiver.watch("/hook", "/other")
        receiver.fail_first("/hook", 1)
        first = httpx.post(base + "/hook", content=b"{}", headers={"webhook-id": "msg_1"})
        second = httpx.post(base + "/hook", content=b"{}", headers={"webhook-id": "msg_1"})
        httpx.post(base + "/other", content=b"x")
        assert (first.status_code, second.status_code) == (500, 200)
        got = receiver.to("/hook")
        assert [d.status for d in got] == [500, 200] and got[0].headers["webhook-id"] == "msg_1"
        assert receiver.wait_for(lambda ds: len(ds) == 3, timeout=1.0)
        assert not receiver.wait_for(lambda ds: len(ds) == 4, timeout=0.2)
        httpx.post(base + "/unwatched", content=b"{}")  # a fuzzed webhook's: answered, counted
        assert len(receiver.deliveries) == 3 and receiver.unwatched == 1
