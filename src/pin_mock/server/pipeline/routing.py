"""Find the handler of each operation: the module of its tag, the function of its ``operationId``.

``listClinicalData`` (tag ``Clinical Data``) resolves to
``pin_mock.server.handlers.clinical_data.list_clinical_data``. An operation
without a handler (or a tag without a module) stops start-up with an error
naming it, rather than answering 501 later.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from connexion.resolver import Resolution, Resolver

from pin_mock.server.errors import ConfigError

HANDLERS = "pin_mock.server.handlers"


def snake_case(name: str) -> str:
    """``listClinicalData`` -> ``list_clinical_data``; ``Clinical Data`` -> ``clinical_data``."""
    return re.sub(r"(?<!^)(?<![ _])(?=[A-Z])", "_", name).replace(" ", "_").lower()


class OperationIdResolver(Resolver):
    """Resolve each operation of ``spec`` to a function of its tag's handler module."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self._tags = {
            definition["operationId"]: (definition.get("tags") or ["untagged"])[0]
            for item in spec.get("paths", {}).values()
            for definition in item.values()
            if isinstance(definition, dict) and "operationId" in definition
        }

    def resolve(self, operation: Any) -> Resolution:
        operation_id = operation.operation_id
        return Resolution(self.find(operation_id), operation_id)

    def find(self, operation_id: str) -> Callable[..., Any]:
        """The handler for ``operation_id``, or ``ConfigError``."""
        name = snake_case(operation_id)
        module_name = f"{HANDLERS}.{snake_case(self._tags.get(operation_id, 'untagged'))}"
        try:
            module: ModuleType | None = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise  # the module is there; something it imports is not
            module = None
        function = getattr(module, name, None)
        if not callable(function):
            raise ConfigError(
                f"no handler for operationId {operation_id!r} (looked for {module_name}.{name}())"
            )
        return function


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
