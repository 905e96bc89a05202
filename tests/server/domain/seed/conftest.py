"""The seed tests' shared dataset (the app fixtures come from tests/server/conftest.py)."""

from __future__ import annotations

import pytest

from pin_mock._bundled import fixtures_dir
from pin_mock.server.domain.seed.generator import SeedData, generate


@pytest.fixture(scope="session")
def seed150() -> SeedData:
    """The default sandbox's data (seed 42, 150 patients), generated once; read it only."""
    return generate(fixtures_dir(), seed=42, patients=150)
