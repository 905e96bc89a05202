"""Seeded records and entries: shaped as the spec says, rebuilt identically on demand."""

from __future__ import annotations

from datetime import date

import pytest
from connexion.json_schema import Draft4ResponseValidator
from jsonschema import Draft4Validator

from pin_mock._bundled import fixtures_dir
from pin_mock.server.domain.seed.generator import SeedData, generate
from spec_conformance import spec

FIXTURES = fixtures_dir()


def test_records_and_entries_match_the_spec_schemas(seed150: SeedData) -> None:
    schemas = spec()["components"]["schemas"]
    checker = Draft4Validator.FORMAT_CHECKER
    entry = Draft4ResponseValidator(schemas["ClinicalDataEntry"], format_checker=checker)
    contact = Draft4ResponseValidator(schemas["Contact"], format_checker=checker)
    for patient in seed150.patients:
        assert patient["gender"] in schemas["Gender"]["enum"]
        assert not list(contact.iter_errors(patient["contact"])), patient
        date.fromisoformat(patient["date_of_birth"])
        for item in seed150.entries[patient["id"]]:
            errors = list(entry.iter_errors(item))
            assert not errors, (item, errors[0].message)


def test_entries_are_rebuilt_identically_after_leaving_the_cache() -> None:
    data = generate(FIXTURES, seed=42, patients=20, cache_size=2)
    first = [list(data.entries[f"patient_{n}"]) for n in (1, 2, 3)]
    assert [data.entries[f"patient_{n}"] for n in (1, 2, 3)] == first
    with pytest.raises(KeyError):
        data.entries["patient_999"]
