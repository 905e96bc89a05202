"""PIN's rules registered as Schemathesis custom checks.

Importing this module registers the checks (``@schemathesis.check``), so they
run under ``st run`` (through ``SCHEMATHESIS_HOOKS=pin_mock.contract.hooks``),
under the kit's runner, and in pytest through ``case.call_and_validate()``.
Each check is a thin adapter: it turns the response into an ``Exchange`` and
calls one pure rule (``rules``, ``listing``, ``ratelimits``). The import of
``cross_field`` registers its ``filter_failure`` hook alongside.
"""

from __future__ import annotations

import threading
from typing import Any

import schemathesis

from pin_mock.contract import cross_field, listing, ratelimits, rules
from pin_mock.contract.exchange import Exchange
from pin_mock.contract.spec import find_operation

#: PIN's documented cross-field 400s are not positive-data failures (see cross_field.py).
filter_failure = cross_field.filter_failure

#: Names of the checks this module registers (for --checks / --exclude-checks).
PIN_CHECKS = (
    "pin_error_envelope",
    "pin_oauth_error",
    "pin_token_response",
    "pin_unauthorized_challenge",
    "pin_rate_limit_headers",
    "pin_retry_after",
    "PinRateLimitWindow",
    "pin_paging",
    "pin_search_filter",
    "pin_clinical_data_filters",
    "pin_report_status_filter",
    "pin_resource_identity",
    "pin_created_location",
)


_recent = threading.local()


def exchange(response: Any, case: Any) -> Exchange:
    """The ``Exchange`` of a Schemathesis response.

    Every check of one response runs in one thread, one after the other, so
    the last conversion is kept per thread (parsing the body once, not 13 times).
    """
    cached = getattr(_recent, "value", None)
    if cached is not None and cached[0] is response and cached[1] is case:
        return cached[2]
    result = Exchange.from_schemathesis(response, case)
    _recent.value = (response, case, result)
    return result


def _default_limit(case: Any) -> int:
    """The operation's documented default ``limit`` (50 in PIN)."""
    try:
        operation = find_operation(case.operation.schema.raw_schema, "get", case.operation.path)
    except Exception:  # noqa: BLE001 - an unusual spec must not break the check
        operation = None
    default = operation.query_default("limit") if operation else None
    return default if isinstance(default, int) else listing.DEFAULT_LIMIT


@schemathesis.check
def pin_error_envelope(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx/5xx under /v1 is {"error": {"code", "message", "details"}} with a matching code."""
    rules.error_envelope(exchange(response, case))


@schemathesis.check
def pin_oauth_error(ctx: Any, response: Any, case: Any) -> None:
    """Token-endpoint errors follow RFC 6749 section 5.2."""
    rules.oauth_error(exchange(response, case))


@schemathesis.check
def pin_token_response(ctx: Any, response: Any, case: Any) -> None:
    """Token answers are not cacheable and are Bearer tokens (RFC 6749 section 5.1)."""
    rules.token_response(exchange(response, case))


@schemathesis.check
def pin_unauthorized_challenge(ctx: Any, response: Any, case: Any) -> None:
    """A 401 under /v1 carries a Bearer WWW-Authenticate challenge."""
    rules.unauthorized_challenge(exchange(response, case))


@schemathesis.check
def pin_rate_limit_headers(ctx: Any, response: Any, case: Any) -> None:
    """X-RateLimit-Limit/Remaining/Reset on every /v1 answer: integers, consistent, future reset."""
    ratelimits.rate_limit_headers(exchange(response, case))


@schemathesis.check
def pin_retry_after(ctx: Any, response: Any, case: Any) -> None:
    """A 429 carries Retry-After in whole seconds."""
    ratelimits.retry_after(exchange(response, case))


@schemathesis.check
class PinRateLimitWindow:
    """X-RateLimit-Remaining never goes up within one window for one client."""

    def __init__(self) -> None:
        self.tracker = ratelimits.WindowTracker()

    def after_response(self, ctx: Any, response: Any, case: Any) -> None:
        self.tracker.observe(exchange(response, case))


@schemathesis.check
def pin_paging(ctx: Any, response: Any, case: Any) -> None:
    """len(data) <= limit, page/limit echoed, total consistent, empty page only past the end."""
    listing.paging(exchange(response, case), default_limit=_default_limit(case))


@schemathesis.check
def pin_search_filter(ctx: Any, response: Any, case: Any) -> None:
    """Patients listed for `search` match the term in name or id."""
    listing.patient_search(exchange(response, case))


@schemathesis.check
def pin_clinical_data_filters(ctx: Any, response: Any, case: Any) -> None:
    """Clinical-data entries match data_type, fall within start_date..end_date, oldest first."""
    listing.clinical_data_filters(exchange(response, case))


@schemathesis.check
def pin_report_status_filter(ctx: Any, response: Any, case: Any) -> None:
    """Reports listed for `status` are in that status."""
    listing.report_status_filter(exchange(response, case))


@schemathesis.check
def pin_resource_identity(ctx: Any, response: Any, case: Any) -> None:
    """GET /v1/.../{id} returns that resource; webhook secrets are never shown again."""
    rules.resource_identity(exchange(response, case))


@schemathesis.check
def pin_created_location(ctx: Any, response: Any, case: Any) -> None:
    """A 201/202 to POST /v1/... has a Location naming the created resource."""
    rules.created_location(exchange(response, case))
