"""PIN's checks as Schemathesis custom checks, generated from the registry.

Importing this module registers one Schemathesis check per registered PIN check
(same name), so they run under ``st run`` (through
``SCHEMATHESIS_HOOKS=pin_mock.contract.hooks``), under the kit's runner, and in
pytest through ``case.call_and_validate()``. Each is a thin adapter: it turns
the response into an ``Exchange``, finds the facts of the spec Schemathesis
loaded, and calls the rule. The ``filter_failure`` hook lets PIN's documented
cross-field 400s through (see ``cross_field.py``).
"""

from __future__ import annotations

import threading
from typing import Any

import schemathesis

from pin_mock.contract.checks.catalogue import ALL_CHECKS
from pin_mock.contract.checks.cross_field import broken_rule, rules_of
from pin_mock.contract.checks.registry import Check
from pin_mock.contract.exchange import Exchange
from pin_mock.contract.spec import Spec

#: The failure type Schemathesis raises when valid data is rejected.
REJECTED_POSITIVE = "RejectedPositiveData"

_recent = threading.local()


def exchange(response: Any, case: Any) -> Exchange:
    """The ``Exchange`` of a Schemathesis response.

    Every check of one response runs in one thread, one after the other, so
    the last conversion is kept per thread (parsing the body once, not once per check).
    """
    cached = getattr(_recent, "value", None)
    if cached is not None and cached[0] is response and cached[1] is case:
        return cached[2]
    result = Exchange.from_schemathesis(response, case)
    _recent.value = (response, case, result)
    return result


def spec_of(case: Any) -> Spec:
    """The facts of the spec Schemathesis is testing (the one it was given, not the bundled one)."""
    return Spec.of(case.operation.schema.raw_schema)


def _judge(check: Check, rule: Any, response: Any, case: Any) -> None:
    ex, spec = exchange(response, case), spec_of(case)
    if check.applies_to(ex, spec):
        rule(ex, spec)


def as_schemathesis_check(check: Check) -> Any:
    """A Schemathesis check named like ``check`` (a class for a per-run check)."""
    if check.per_run:

        def __init__(self: Any) -> None:
            self.rule = check.new_rule()

        def after_response(self: Any, ctx: Any, response: Any, case: Any) -> None:
            _judge(check, self.rule, response, case)

        adapter: Any = type(
            check.name,
            (),
            {"__init__": __init__, "after_response": after_response, "__doc__": check.description},
        )
    else:

        def adapter(ctx: Any, response: Any, case: Any) -> None:
            _judge(check, check.rule, response, case)

        adapter.__name__ = adapter.__qualname__ = check.name
        adapter.__doc__ = check.description
    adapter.__module__ = __name__
    return schemathesis.check(adapter)


#: The registered Schemathesis checks, by name.
SCHEMATHESIS_CHECKS: dict[str, Any] = {
    check.name: as_schemathesis_check(check) for check in ALL_CHECKS
}


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure except a documented 400 to a request that breaks a cross-field rule."""
    if (
        type(failure).__name__ != REJECTED_POSITIVE
        or response is None
        or response.status_code != 400
    ):
        return True
    body = case.body if isinstance(case.body, dict) else None
    return broken_rule(rules_of(case.operation.definition.raw), case.query, body) is None
