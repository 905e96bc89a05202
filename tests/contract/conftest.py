"""Factories for the kit's tests: crafted exchanges, a live sandbox, kit runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kit_helpers import SEED, rate_headers
from kit_servers import sandbox_app, serve
from pin_mock.contract.exchange import Exchange
from pin_mock.contract.runner import ContractOptions, ContractResult, run_contract


@pytest.fixture
def make_exchange() -> Callable[..., Exchange]:
    """Build an ``Exchange`` from a status, a JSON body and the request's shape."""

    def make(
        status: int = 200,
        body: Any = None,
        *,
        method: str = "GET",
        template: str = "/v1/patients",
        url: str | None = None,
        headers: dict[str, list[str]] | None = None,
        raw: bytes | None = None,
        **extra: Any,
    ) -> Exchange:
        content = (
            raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        )
        return Exchange(
            method=method,
            url=url or "http://pin.test" + template,
            status=status,
            headers=rate_headers() if headers is None else headers,
            body=content,
            template=template,
            **extra,
        )

    return make


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    """A live pin-mock sandbox on loopback, shared by the kit's end-to-end tests."""
    with serve(sandbox_app()) as url:
        yield url


@pytest.fixture
def run_kit(tmp_path: Any) -> Callable[..., ContractResult]:
    """Run the kit with a fixed seed and few examples; keyword arguments override."""

    def run(base_url: str, **overrides: Any) -> ContractResult:
        options = {
            "base_url": base_url,
            "client_id": "sandbox-enterprise",
            "client_secret": "sandbox-enterprise-secret",
            "seed": SEED,
            "max_examples": 5,
            "report_dir": tmp_path / "report",
            **overrides,
        }
        return run_contract(ContractOptions(**options))

    return run
