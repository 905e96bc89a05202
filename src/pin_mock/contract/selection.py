"""What a run tests: which operations (``--include*``/``--exclude*``) and which checks.

**Operations** are chosen by operationId or ``METHOD /path`` (``--include``),
tag, path pattern (a glob: ``/v1/patients*``) and method. Within one kind the
values are alternatives; across kinds all must hold (``--include-tag Patients
--include-method GET`` is the GET operations of Patients). An ``--exclude*``
match always leaves an operation out. An operation named by ``--include`` is
*asked for*: it is tested even when the first pass finds it not implemented.

**Checks** are chosen by name (``--checks``, ``--exclude-checks``), across
PIN's registered checks, the probes' checks and Schemathesis's own. ``default``
names the default set, ``all`` every check, including the opt-in ones
(``OPT_IN``: not contractual by default, see the README's table of checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from pin_mock.contract.spec import Operation

#: Schemathesis 4.32's built-in checks (``test_kit_selection.py`` compares with its registry).
SCHEMATHESIS_CHECKS = frozenset(
    {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
        "object_level_authorization",
        "max_response_time",
    }
)
#: Checks a run leaves out unless asked for (``--checks all`` or by name).
OPT_IN = frozenset({"pin_example_messages"})


class SelectionError(ValueError):
    """A selection that names nothing the spec (or the kit) has."""


@dataclass(frozen=True)
class OperationSelection:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    include_paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    include_methods: tuple[str, ...] = ()
    exclude_methods: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)

    def select(self, operations: list[Operation]) -> list[Operation]:
        """The selected operations, in spec order; ``SelectionError`` for a value matching none."""
        for kind, values in (
            ("", (*self.include, *self.exclude)),
            ("tag", (*self.include_tags, *self.exclude_tags)),
            ("path", (*self.include_paths, *self.exclude_paths)),
            ("method", (*self.include_methods, *self.exclude_methods)),
        ):
            for value in values:
                if not any(_matches(kind, op, value) for op in operations):
                    hint = {
                        "": "an operationId or 'GET /v1/patients'",
                        "tag": "one of the spec's tags",
                        "path": "a path or glob like '/v1/patients*'",
                        "method": "an HTTP method the spec uses",
                    }[kind]
                    option = f"--include-{kind}" if kind else "--include/--exclude"
                    raise SelectionError(
                        f"no operation of the spec matches {option} {value!r} (use {hint})"
                    )
        return [op for op in operations if self.selects(op)]

    def selects(self, op: Operation) -> bool:
        included = all(
            not values or any(_matches(kind, op, v) for v in values)
            for kind, values in (
                ("", self.include),
                ("tag", self.include_tags),
                ("path", self.include_paths),
                ("method", self.include_methods),
            )
        )
        excluded = any(
            any(_matches(kind, op, v) for v in values)
            for kind, values in (
                ("", self.exclude),
                ("tag", self.exclude_tags),
                ("path", self.exclude_paths),
                ("method", self.exclude_methods),
            )
        )
        return included and not excluded

    def asked_for(self, op: Operation) -> bool:
        """Whether ``--include`` names the operation itself (its id or label)."""
        return any(_matches("", op, v) for v in self.include)


def _matches(kind: str, op: Operation, value: str) -> bool:
    value = value.strip()
    if kind == "tag":
        return value.casefold() in {t.casefold() for t in op.tags}
    if kind == "path":
        return fnmatchcase(op.path, value)
    if kind == "method":
        return op.method.upper() == value.upper()
    method, _, path = value.partition(" ")
    return value == op.operation_id or (
        method.upper() == op.method.upper() and path.strip() == op.path
    )


@dataclass(frozen=True)
class CheckSelection:
    """Which checks judge the run: ``enabled(name)``, and why a check is left out."""

    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls, checks: tuple[str, ...] | None, exclude: tuple[str, ...], known: frozenset[str]
    ) -> CheckSelection:
        """From ``--checks`` (names, ``default``, ``all``) and ``--exclude-checks``."""
        chosen = {n.strip() for v in checks or () for n in v.split(",") if n.strip()}
        dropped = {n.strip() for v in exclude for n in v.split(",") if n.strip()}
        unknown = sorted((chosen | dropped) - known - {"all", "default"})
        if unknown:
            raise SelectionError(
                f"unknown check {', '.join(unknown)} (pin-mock contract --list-checks names them)"
            )
        include: set[str] | None
        if not chosen or chosen == {"default"}:
            include = None
        elif "all" in chosen:
            include = set(known)
        else:
            include = (set(known) - OPT_IN if "default" in chosen else set()) | (
                chosen - {"default"}
            )
        return cls(frozenset(include) if include is not None else None, frozenset(dropped))

    def enabled(self, name: str) -> bool:
        if name in self.exclude:
            return False
        if self.include is None:
            return name not in OPT_IN
        return name in self.include

    def why_not(self, name: str) -> str:
        if name in self.exclude:
            return "excluded by --exclude-checks"
        if self.include is None and name in OPT_IN:
            return "opt-in: not contractual by default (--checks all or --checks default,NAME)"
        return "not named by --checks"
