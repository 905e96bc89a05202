"""The one registry of PIN's response checks.

A check is a small function ``rule(exchange, spec)`` that returns quietly when
its rule holds or does not apply, and raises ``ContractViolation`` naming what
is wrong. It is registered with a decorator that gives its name and what it
applies to::

    @check("pin_search_filter", operations=("listPatients",))
    def patient_search(ex: Exchange, spec: Spec) -> None: ...

A check that judges a sequence of answers (the rate-limit window) registers a
class instead, ``per_run=True``: each run makes one instance and calls it like a
rule. Everything else derives from this registry (``catalogue.py`` loads it):
the Schemathesis checks (``schemathesis_checks.py``), the rules every probe
answer goes through (``target.py``) and the list of check names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pin_mock.contract.exchange import Exchange
    from pin_mock.contract.spec import Spec

Rule = Callable[["Exchange", "Spec"], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    """One registered check: its name, what it applies to, and its rule."""

    name: str
    #: ``rule(ex, spec)``; for a per-run check, the class whose instances are rules.
    rule: Callable[..., Any]
    description: str
    #: The operationIds it judges; ``None``: every answer (its rule decides what applies).
    operations: frozenset[str] | None = None
    per_run: bool = False

    def applies_to(self, ex: Exchange, spec: Spec) -> bool:
        """Whether the exchange is an answer of one of the check's operations."""
        if self.operations is None:
            return True
        operation = spec.find(ex.method, ex.template)
        return operation is not None and operation.operation_id in self.operations

    def new_rule(self) -> Rule:
        """The rule for one run: the function itself, or a fresh instance of a per-run check."""
        return self.rule() if self.per_run else self.rule


_REGISTERED: dict[str, Check] = {}


def check(
    name: str, *, operations: Iterable[str] | None = None, per_run: bool = False
) -> Callable[[T], T]:
    """Register a rule (or a per-run rule class) as the check ``name``."""

    def register(rule: T) -> T:
        if name in _REGISTERED:
            raise ValueError(f"a check named {name!r} is already registered")
        doc = (getattr(rule, "__doc__", None) or "").strip()
        _REGISTERED[name] = Check(
            name=name,
            rule=rule,  # type: ignore[arg-type]
            description=doc.splitlines()[0] if doc else name,
            operations=frozenset(operations) if operations is not None else None,
            per_run=per_run,
        )
        return rule

    return register


def registered() -> tuple[Check, ...]:
    """Every check registered so far, in registration order (see ``catalogue.ALL_CHECKS``)."""
    return tuple(_REGISTERED.values())
