"""Compatibility shim: the seed-data generator is now the package ``pin_mock.server.seed``.

``services.py`` and ``store.py`` still import this name; point them at
``pin_mock.server.seed`` (``generate``, ``SeedData``) and delete this module.
"""

from __future__ import annotations

from pin_mock.server.seed import (
    ANCHOR,
    COURSES,
    ENTRY_CACHE_SIZE,
    GENDERS,
    CodeTables,
    History,
    MedicationSpan,
    SeedData,
    SeedEntries,
    build_entries,
    generate,
    load_fixed_patients,
)

__all__ = [
    "ANCHOR",
    "COURSES",
    "ENTRY_CACHE_SIZE",
    "GENDERS",
    "CodeTables",
    "History",
    "MedicationSpan",
    "SeedData",
    "SeedEntries",
    "build_entries",
    "generate",
    "load_fixed_patients",
]
