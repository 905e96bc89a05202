"""``generate``: the whole seeded dataset (``SeedData``) from the ``fixtures/`` folder.

Code tables and fixed records live in ``fixtures/`` as YAML. Patient N is
drawn from its own generator, seeded with (seed, N), so the same seed gives
identical data everywhere, and ``--patients 150`` and ``--patients 100000``
share their first 150 patients. Fixed records (``fixtures/patients.yaml``)
are served verbatim, with a generated history.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pin_mock.server.domain.seed.code_tables import CodeTables
from pin_mock.server.domain.seed.demographics import draw_patient
from pin_mock.server.domain.seed.entries import ENTRY_CACHE_SIZE, SeedEntries
from pin_mock.server.domain.seed.history import History, HistoryDrawer
from pin_mock.server.domain.seed.sampling import ANCHOR, LAST_DAY
from pin_mock.server.errors import ConfigError


@dataclass
class SeedData:
    """The base data every client sees."""

    patients: list[dict[str, Any]]
    entries: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    codes: CodeTables | None = None
    histories: dict[str, History] = field(default_factory=dict)


def load_fixed_patients(fixtures: Path) -> list[dict[str, Any]]:
    """The verbatim records of ``fixtures/patients.yaml``."""
    path = fixtures / "patients.yaml"
    try:
        return list(yaml.safe_load(path.read_text(encoding="utf-8"))["patients"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def generate(
    fixtures: Path, *, seed: int, patients: int, cache_size: int = ENTRY_CACHE_SIZE
) -> SeedData:
    """Build ``patients`` patients (fixed records included) with their histories.

    A fixed record may carry ``history: {primary: <ICD-10-CM code>, onset:
    <date>}`` to pin its first diagnosis and first visit (it is not served).
    """
    codes = CodeTables.load(fixtures)
    fixed = {p["id"]: p for p in load_fixed_patients(fixtures)}
    draw = HistoryDrawer(codes)
    records: list[dict[str, Any]] = []
    histories: dict[str, History] = {}
    ids = [f"patient_{n}" for n in range(1, patients + 1)]
    # Fixed records beyond the requested size are still present: the docs rely on them.
    ids += [pid for pid in fixed if not 1 <= _number(pid) <= patients]
    for pid in ids:
        record = fixed.get(pid)
        number = _number(pid)
        rng = random.Random(f"{seed}:{number}")
        hint = _hint(record, codes) if record else None
        history = draw.history(rng, number, hint)
        records.append(
            {k: v for k, v in record.items() if k != "history"}
            if record
            else draw_patient(rng, pid, history.days[0])
        )
        histories[pid] = history
    entries = SeedEntries(histories, codes, seed, cache_size)
    return SeedData(patients=records, entries=entries, codes=codes, histories=histories)


def _number(patient_id: str) -> int:
    digits = patient_id.removeprefix("patient_")
    if digits.isdigit():
        return int(digits)
    # Fixed records with other ids still get a stable generator of their own.
    return 10**9 + sum(ord(c) * 31**i for i, c in enumerate(patient_id)) % 10**9


def _hint(record: dict[str, Any], codes: CodeTables) -> tuple[dict[str, Any], int] | None:
    raw = record.get("history")
    if not raw:
        return None
    try:
        primary = codes.diagnosis(str(raw["primary"]))
        onset = date.fromisoformat(str(raw["onset"])).toordinal()
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"patient {record.get('id')}: bad history hint {raw!r}") from exc
    if primary is None or onset > LAST_DAY:
        raise ConfigError(f"patient {record.get('id')}: unknown diagnosis or onset after {ANCHOR}")
    return primary, onset
