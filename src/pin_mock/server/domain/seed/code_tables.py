"""The clinical code tables (ICD-10-CM, RxNorm, LOINC, ICD-10-PCS) from ``fixtures/codes``.

Generation draws every code from these tables, so the sandbox never invents a
code. They are checked when read: a missing, malformed or inconsistent table
(a drug for an unknown diagnosis, a monitoring lab that does not exist, a
vital the generator needs) stops start-up with a ``ConfigError`` naming the
file.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

import yaml

from pin_mock.server.errors import ConfigError


@dataclass(frozen=True)
class CodeTables:
    """The clinical code tables from ``fixtures/codes``."""

    diagnoses: list[dict[str, Any]]
    medications: list[dict[str, Any]]
    vitals: list[dict[str, Any]]
    labs: list[dict[str, Any]]
    procedures: list[dict[str, Any]]

    @classmethod
    def load(cls, fixtures: Path) -> CodeTables:
        """Read every table; a missing, malformed or inconsistent file stops start-up."""
        tables = {}
        for name in ("diagnoses", "medications", "vitals", "labs", "procedures"):
            path = fixtures / "codes" / f"{name}.yaml"
            try:
                rows = yaml.safe_load(path.read_text(encoding="utf-8"))[name]
            except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
                raise ConfigError(f"cannot read code table {path}: {exc}") from exc
            if not isinstance(rows, list) or not rows:
                raise ConfigError(f"code table {path} has no rows")
            tables[name] = rows
        codes = cls(**tables)
        codes._check(fixtures / "codes")
        return codes

    def _check(self, where: Path) -> None:
        required = {
            "diagnoses": ("code", "display", "weight", "site", "resolvable"),
            "medications": ("name", "rxcui", "dose", "frequency", "route", "line", "treats"),
            "vitals": ("name", "display", "loinc", "unit", "low", "high", "decimals"),
            "labs": ("name", "loinc", "unit", "low", "high", "ref_low", "ref_high", "decimals"),
            "procedures": ("name", "body_site", "when", "share", "for"),
        }
        for table, keys in required.items():
            for i, row in enumerate(getattr(self, table)):
                missing = [k for k in keys if k not in row]
                if missing:
                    raise ConfigError(f"{where}/{table}.yaml row {i + 1} lacks {missing}")
        known = {d["code"] for d in self.diagnoses}
        labs = {lab["loinc"] for lab in self.labs}
        vitals = {v["name"] for v in self.vitals}
        for med in self.medications:
            if set(med["treats"]) - known or set(med.get("monitor", ())) - labs:
                raise ConfigError(f"{where}/medications.yaml: {med['name']} names unknown codes")
        for row in [*self.procedures, *self.labs]:
            if set(row.get("for", ())) - known:
                raise ConfigError(f"{where}: {row['name']} is done for unknown diagnoses")
        for name in ("heart_rate", "body_height", "body_weight", "bmi"):
            if name not in vitals:
                raise ConfigError(f"{where}/vitals.yaml lacks {name}")

    @property
    def diagnosis_weights(self) -> list[float]:
        return list(accumulate(d["weight"] for d in self.diagnoses))

    def diagnosis(self, code: str) -> dict[str, Any] | None:
        return next((d for d in self.diagnoses if d["code"] == code), None)

    def display_names(self) -> dict[str, str]:
        """What a person reads for each vital sign's API name (``heart_rate``: Heart rate)."""
        return {v["name"]: v["display"] for v in self.vitals}

    def vital(self, name: str) -> dict[str, Any]:
        return next(v for v in self.vitals if v["name"] == name)
