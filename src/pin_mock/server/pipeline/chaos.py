"""Faults on demand: ``Prefer: fault=NAME`` on one request, or the client's chaos setting.

On any ``/v1`` operation, after routing (so the operation is known) and before
the ``Prefer`` scenarios layer (so a fault can break a forced answer too):

- ``Prefer: fault=NAME`` (one of ``domain.chaos.FAULTS``; for ``slow_body`` a
  parameter ``ms``: ``Prefer: fault=slow_body; ms=3000``; for
  ``headers_then_silence`` the same ``ms`` for the silence) injects that fault
  into this request. Like every ``Prefer`` scenario it needs the operation's
  token and scope first (401/403 otherwise); an unknown fault is 400 naming
  those that exist.
- Without it, the caller's chaos setting (``PUT /_sandbox/chaos``) decides:
  a delay, a fault, both or neither (``Chaos.outcome``), for a request with a
  valid token of that client.

Every injected fault is marked on the request before it happens:
``scope["state"]["pin_fault"]`` holds its name (the request journal records it
as the exchange's ``fault``), and one INFO line says which fault, which
client, which operation and why (``prefer`` or ``chaos`` with the request's
number). The faults themselves are ``pipeline/faults.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from pin_mock.server.domain.chaos import FAULTS, Chaos, Outcome
from pin_mock.server.errors import InvalidParameter
from pin_mock.server.pipeline.authentication import caller_of
from pin_mock.server.pipeline.faults import inject
from pin_mock.server.pipeline.operations import ROUTING, Operation
from pin_mock.server.pipeline.request_ids import REQUEST_ID_KEY

log = logging.getLogger("pin_mock.faults")

#: The key of the ASGI scope's ``state`` that names the fault injected into a request.
FAULT_STATE = "pin_fault"


def prefer_fault(values: list[str], max_ms: int) -> tuple[str, int | None] | None:
    """The ``fault`` preference of ``Prefer`` values and its ``ms``, None if there is none."""
    for value in values:
        for preference in value.split(","):
            token, _, rest = preference.partition("=")
            if token.strip().lower() != "fault":
                continue
            name, *parameters = rest.split(";")
            fault = name.strip().strip('"')
            if fault not in FAULTS:
                raise InvalidParameter(
                    "Prefer",
                    f"fault={fault}",
                    f"Prefer: fault must be one of {', '.join(FAULTS)}.",
                )
            ms = None
            for parameter in parameters:
                key, _, raw = parameter.partition("=")
                if key.strip().lower() == "ms":
                    raw = raw.strip().strip('"')
                    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or int(raw) > max_ms:
                        raise InvalidParameter(
                            "Prefer",
                            f"ms={raw}",
                            f"Prefer: fault's ms must be a whole number from 0 to {max_ms}.",
                        )
                    ms = int(raw)
            return fault, ms
    return None


class ChaosMiddleware:
    """Injects the faults and delays asked for; sits right after routing."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        operations: Mapping[str, Operation],
        chaos: Chaos,
        max_delay_ms: int,
        send_timeout: float,
    ) -> None:
        self.app = app
        # Only /v1: never the token endpoint nor the sandbox's own operations.
        self.scopes = {
            operation_id: operation.scopes
            for operation_id, operation in operations.items()
            if operation.path_template.startswith("/v1/")
        }
        self.chaos = chaos
        self.max_delay_ms = max_delay_ms
        self.send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get(ROUTING) if scope["type"] == "http" else None
        operation_id = routing.get("operation_id") if routing else None
        if operation_id not in self.scopes:
            await self.app(scope, receive, send)
            return
        caller = caller_of(scope)
        asked = None
        for name, value in scope["headers"]:
            if name == b"prefer" and b"fault" in value.lower():
                caller.require(self.scopes[operation_id])  # as every Prefer scenario, first
                asked = prefer_fault(
                    [v.decode("latin-1") for k, v in scope["headers"] if k == b"prefer"],
                    self.max_delay_ms,
                )
                break
        if asked is not None:
            fault, ms = asked
            slow_body_ms = 2_000 if ms is None else ms
            await self._inject(Outcome(fault, 0, slow_body_ms, ms), "prefer", scope, receive, send)
            return
        client_id = caller.client_id
        if not client_id or self.chaos.surely_off(client_id):  # the usual case: no await
            await self.app(scope, receive, send)
            return
        outcome = await self.chaos.outcome(client_id, operation_id)
        if outcome is None:
            await self.app(scope, receive, send)
            return
        if outcome.delay_ms:
            await asyncio.sleep(outcome.delay_ms / 1000)
        if outcome.fault is None:
            await self.app(scope, receive, send)
            return
        await self._inject(outcome, "chaos", scope, receive, send)

    async def _inject(
        self, outcome: Outcome, source: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        fault = outcome.fault or ""
        scope.setdefault("state", {})[FAULT_STATE] = fault
        routing: dict[str, Any] = scope["extensions"][ROUTING]
        log.info(
            "Injected the fault %s (%s) into %s %s",
            fault,
            f"chaos, request {outcome.number}" if outcome.number else source,
            scope["method"],
            scope["path"],
            extra={
                "fault": fault,
                "fault_source": source,
                "chaos_request": outcome.number or None,
                "operation": routing.get("operation_id"),
                "client": caller_of(scope).client_id,
                "request_id": scope["state"].get(REQUEST_ID_KEY),
            },
        )
        # Never silent past the server's own send deadline (an unread answer's limit).
        silence = min(self.send_timeout, (outcome.silence_ms or 1e12) / 1000)
        if source == "prefer":  # RFC 7240: say which preference was honoured
            applied = (b"preference-applied", f"fault={fault}".encode())
            plain_send = send

            async def send(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), applied]}
                await plain_send(message)

        await inject(
            fault,
            self.app,
            scope,
            receive,
            send,
            slow_body_ms=outcome.slow_body_ms,
            silence=silence,
        )
