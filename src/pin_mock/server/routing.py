"""Find the handler of each operation from its ``operationId``.

``listPatients`` resolves to ``list_patients`` in one of the resource modules
under ``pin_mock.server.handlers``; an operation without a handler stops start-up
with an error naming it, rather than answering 501 later.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from connexion.resolver import Resolution, Resolver

from pin_mock.server.errors import ConfigError

HANDLER_MODULES = (
    "authentication",
    "patients",
    "clinical_data",
    "analytics",
    "reports",
    "webhooks",
    "sandbox",  # the sandbox's own operations (openapi/sandbox.overlay.yaml)
)


def snake_case(operation_id: str) -> str:
    """``listClinicalData`` -> ``list_clinical_data``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


class OperationIdResolver(Resolver):
    """Resolve camelCase operation ids to functions in the handler modules."""

    def __init__(self) -> None:
        super().__init__()
        self._modules: list[ModuleType] = [
            importlib.import_module(f"pin_mock.server.handlers.{name}") for name in HANDLER_MODULES
        ]

    def resolve(self, operation: Any) -> Resolution:
        operation_id = operation.operation_id
        return Resolution(self.find(operation_id), operation_id)

    def find(self, operation_id: str) -> Callable[..., Any]:
        """The handler for ``operation_id``, or ``ConfigError``."""
        name = snake_case(operation_id)
        for module in self._modules:
            function = getattr(module, name, None)
            if callable(function):
                return function
        raise ConfigError(f"no handler for operationId {operation_id!r} (looked for {name}())")


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class AllowedMethods:
    """The methods the spec documents for each path, for 405 answers' ``Allow``.

    Connexion registers one Starlette route per operation, so Starlette's own
    405 lists only the first route's methods (``GET`` on ``/v1/patients``,
    never ``POST``); this index answers from the spec instead.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self._paths: list[tuple[re.Pattern[str], list[str]]] = []
        for template, item in spec.get("paths", {}).items():
            methods = [m.upper() for m in HTTP_METHODS if m in item]
            if "GET" in methods and "HEAD" not in methods:
                methods.insert(0, "HEAD")  # Starlette answers HEAD wherever GET is routed
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            self._paths.append((re.compile(f"^{pattern}$"), methods))

    def __call__(self, path: str) -> list[str]:
        """The methods documented for ``path`` (a concrete URL path); empty if none."""
        for pattern, methods in self._paths:
            if pattern.match(path):
                return methods
        return []
