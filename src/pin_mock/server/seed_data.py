"""Seeded, synthetic sandbox data: demographics plus coherent clinical histories.

Code tables (ICD-10-CM, RxNorm, LOINC, ICD-10-PCS) and fixed records live in
``fixtures/`` as YAML; this module reads them and draws from them with seeded
generators. Patient N is drawn from its own generator, seeded with (seed, N),
so the same seed gives identical data everywhere, and ``--patients 150`` and
``--patients 100000`` share their first 150 patients.

A history is coherent: a primary diagnosis at the first visit and a first-line
drug for it (its ``reason_code``); a pain score at every visit, following one
of a few courses (marked improvement, improvement only after a second-line
drug, partial, none, worsening); when the first drug does not work, it is
stopped and a second-line drug (sometimes an injection) follows; sometimes a
second diagnosis with its own drug; monitoring labs for the drugs that need
them; vitals at every visit; and an episode of back or neck pain that settles
may be marked resolved.

To scale to 100,000 patients, generation keeps one compact ``History`` per
patient: what analytics read (diagnoses, medication spans, visit days and
scores) and the few choices the rest follows from. The entries the API
returns, vitals and labs included, are built from it on first use, with a
second per-patient generator, and kept in a bounded cache (``SeedEntries``).
"""

from __future__ import annotations

import math
import random
import re
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from faker.providers.person.en_US import Provider as FakerNames

from pin_mock.server.errors import ConfigError

#: Seeded histories end on this day, so the data does not move with the calendar.
ANCHOR = date(2024, 12, 31)
_LAST_DAY = ANCHOR.toordinal()
GENDERS = ("female", "male", "other", "unknown")
_GENDER_CUM = list(accumulate((52, 45, 2, 1)))
#: Courses of pain over time, with their share of patients (percent).
COURSES = ("responder", "late_responder", "partial", "non_responder", "worsening")
_COURSE_CUM = list(accumulate((35, 20, 20, 15, 10)))
_BASELINES = (4, 5, 6, 7, 8, 9)
_BASELINE_CUM = list(accumulate((1, 3, 5, 5, 4, 2)))
#: NANPA reserves 555-0100 to 555-0199 in every area code for fictional use.
_AREA_CODES = ("206", "212", "303", "312", "404", "415", "512", "602", "617", "713")
#: Entries kept built at once; the default sandbox (150 patients) fits entirely.
ENTRY_CACHE_SIZE = 4096


class MedicationSpan(NamedTuple):
    """One medication order as analytics see it: days are date ordinals."""

    name: str
    rxnorm_code: str | None
    start: int
    end: int | None


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
            "vitals": ("name", "loinc", "unit", "low", "high", "decimals"),
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

    def vital(self, name: str) -> dict[str, Any]:
        return next(v for v in self.vitals if v["name"] == name)


@dataclass(slots=True)
class History:
    """The compact clinical history of one seeded patient.

    ``days``, ``scores``, ``diagnoses`` and ``medications`` are what analytics
    read; the entries are built from all of it by ``build_entries``.
    """

    number: int
    site: str
    diagnoses: tuple[tuple[str, str, bool], ...]  # (code, display, active)
    diagnosis_days: tuple[int, ...]  # onset day of each diagnosis
    resolved_day: int | None  # when the primary diagnosis was marked resolved
    medications: tuple[MedicationSpan, ...]
    medication_rows: tuple[tuple[int, str], ...]  # (medications row, reason code)
    days: array  # visit days (date ordinals), ascending
    scores: bytes  # the NRS pain score at each visit
    labs: tuple[tuple[int, int], ...]  # (labs row, day)
    procedures: tuple[tuple[int, int], ...]  # (procedures row, day)


@dataclass
class SeedData:
    """The base data every client sees."""

    patients: list[dict[str, Any]]
    entries: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    codes: CodeTables | None = None
    histories: dict[str, History] = field(default_factory=dict)


class SeedEntries(Mapping[str, list[dict[str, Any]]]):
    """Patient id -> entries, built from the histories on first use (bounded cache)."""

    def __init__(
        self, histories: dict[str, History], codes: CodeTables, seed: int, size: int
    ) -> None:
        self._histories = histories
        self._codes = codes
        self._seed = seed
        self._size = size
        self._cache: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def __getitem__(self, patient_id: str) -> list[dict[str, Any]]:
        entries = self._cache.get(patient_id)
        if entries is not None:
            self._cache.move_to_end(patient_id)
            return entries
        history = self._histories[patient_id]
        entries = build_entries(history, patient_id, self._codes, self._seed)
        self._cache[patient_id] = entries
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._histories)

    def __len__(self) -> int:
        return len(self._histories)


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
    draw = _Drawer(codes, seed)
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
            else draw.patient(rng, pid, history.days[0])
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
    if primary is None or onset > _LAST_DAY:
        raise ConfigError(f"patient {record.get('id')}: unknown diagnosis or onset after {ANCHOR}")
    return primary, onset


@cache
def _name_table(kind: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Faker's en_US name frequencies, as (names, cumulative weights)."""
    table = getattr(FakerNames, kind)
    return tuple(table), tuple(accumulate(table.values()))


class _Drawer:
    """Draws patients and histories from per-patient generators."""

    def __init__(self, codes: CodeTables, seed: int) -> None:
        self.codes = codes
        self.seed = seed
        self.dx_cum = codes.diagnosis_weights
        self.rows = {m["name"]: i for i, m in enumerate(codes.medications)}
        self.lab_rows = {lab["loinc"]: i for i, lab in enumerate(codes.labs)}
        # Per diagnosis code: medication rows by line, lowest line first.
        self.options: dict[str, dict[int, list[int]]] = {}
        for i, med in enumerate(codes.medications):
            for code in med["treats"]:
                self.options.setdefault(code, {}).setdefault(int(med["line"]), []).append(i)
        self.onset_labs = [(i, lab) for i, lab in enumerate(codes.labs) if lab.get("for")]

    def patient(self, rng: random.Random, pid: str, first_visit: int) -> dict[str, Any]:
        gender = GENDERS[_pick(_GENDER_CUM, rng)]
        kind = {"female": "first_names_female", "male": "first_names_male"}.get(
            gender, "first_names_nonbinary"
        )
        first = _weighted(rng, *_name_table(kind))
        last = _weighted(rng, *_name_table("last_names"))
        age_days = int(rng.triangular(18.2, 90, 52) * 365.25)
        created_day = first_visit - rng.randint(1, 21)
        local = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}".lower())
        contact = {"email": f"{local}{rng.randint(1, 99)}@example.com"}
        if rng.random() < 0.85:
            contact["phone"] = f"+1-{rng.choice(_AREA_CODES)}-555-01{rng.randint(0, 99):02d}"
        return {
            "id": pid,
            "name": f"{first} {last}",
            "date_of_birth": date.fromordinal(_LAST_DAY - age_days).isoformat(),
            "gender": gender,
            "contact": contact,
            "created_at": _stamp(created_day, rng.randint(7 * 60, 18 * 60)),
        }

    def history(
        self, rng: random.Random, number: int, hint: tuple[dict[str, Any], int] | None
    ) -> History:
        codes = self.codes
        if hint:
            primary, first = hint
            last = _LAST_DAY
        else:
            primary = codes.diagnoses[_pick(self.dx_cum, rng)]
            first = _LAST_DAY - rng.randint(60, 720)
            # Some patients stop coming back.
            last = (
                min(_LAST_DAY, first + rng.randint(60, 300)) if rng.random() < 0.15 else _LAST_DAY
            )
        days = array("i")
        day = first
        while day <= last:
            days.append(day)
            day += 14 + int(rng.random() * 29)  # 14 to 42 days; randint is 10x slower
        n = len(days)
        course = COURSES[_pick(_COURSE_CUM, rng)]
        escalate = None
        if course in ("late_responder", "non_responder", "worsening") and n > 2:
            escalate = rng.randint(2, min(4, n - 1))
        scores = self._scores(rng, days, course, escalate)

        code = primary["code"]
        spans: list[list[Any]] = []  # [row, reason, start, end]
        drug = self._drug(rng, code, 1, ())
        if drug is not None:
            spans.append([drug, code, first, None])
        if escalate is not None:
            switch = days[escalate]
            taken = [s[0] for s in spans]
            second = self._drug(rng, code, 3 if course == "worsening" else 2, taken)
            second = second if second is not None else self._drug(rng, code, 2, taken)
            if second is not None:
                for span in spans:
                    span[3] = switch
                spans.append([second, code, switch, None])
        diagnoses = [(code, primary["display"])]
        onsets = [first]
        if n >= 3 and rng.random() < 0.3:
            other = codes.diagnoses[_pick(self.dx_cum, rng)]
            if other["code"] != code:
                when = days[rng.randint(1, min(3, n - 1))]
                diagnoses.append((other["code"], other["display"]))
                onsets.append(when)
                drug = self._drug(rng, other["code"], 1, [s[0] for s in spans if s[3] is None])
                if drug is not None:
                    spans.append([drug, other["code"], when, None])
        resolved = None
        if (
            course == "responder"
            and primary["resolvable"]
            and n >= 3
            and scores[-1] <= 2
            and rng.random() < 0.6
        ):
            resolved = days[-1]
            for span in spans:
                if span[1] == code and span[3] is None:
                    span[3] = resolved
        labs = self._labs(rng, code, first, spans)
        procedures = []
        for row, proc in enumerate(codes.procedures):
            if code in proc["for"] and rng.random() < proc["share"]:
                if proc["when"] == "onset":
                    procedures.append((row, first + rng.randint(7, 21)))
                elif escalate is not None:
                    procedures.append((row, days[escalate] + rng.randint(3, 14)))
        meds = codes.medications
        return History(
            number=number,
            site=primary["site"],
            diagnoses=tuple((c, display, not (resolved and c == code)) for c, display in diagnoses),
            diagnosis_days=tuple(onsets),
            resolved_day=resolved,
            medications=tuple(
                MedicationSpan(meds[r]["name"], str(meds[r]["rxcui"]), start, end)
                for r, _, start, end in spans
            ),
            medication_rows=tuple((r, reason) for r, reason, _, _ in spans),
            days=days,
            scores=bytes(scores),
            labs=tuple(sorted((r, d) for r, d in labs if d <= _LAST_DAY)),
            procedures=tuple((r, d) for r, d in procedures if d <= _LAST_DAY),
        )

    @staticmethod
    def _scores(rng: random.Random, days: array, course: str, escalate: int | None) -> bytearray:
        """One NRS score per visit: an exponential approach to the course's target."""
        baseline = _BASELINES[_pick(_BASELINE_CUM, rng)]
        start = days[0]
        if course == "responder":
            target, tau = baseline * rng.uniform(0.15, 0.55), rng.uniform(30, 90)
        elif course == "late_responder" and escalate is not None:
            target, tau = baseline * rng.uniform(0.25, 0.6), rng.uniform(30, 75)
            start = days[escalate]
        elif course == "partial":
            target, tau = baseline * rng.uniform(0.72, 0.9), rng.uniform(45, 120)
        elif course == "worsening":
            target, tau = min(10.0, baseline + rng.uniform(1, 3)), rng.uniform(60, 180)
        else:
            target, tau = float(baseline), 1.0
        scores = bytearray()
        gap, gauss = baseline - target, rng.gauss
        for day in days:
            level = target + gap * math.exp(-(day - start) / tau) if day > start else baseline
            score = round(level + gauss(0, 0.6))
            scores.append(10 if score > 10 else 0 if score < 0 else score)
        return scores

    def _drug(self, rng: random.Random, code: str, line: int, exclude: Any) -> int | None:
        """A drug of the lowest line >= ``line`` for ``code``, not in ``exclude``."""
        by_line = self.options.get(code, {})
        for level in sorted(k for k in by_line if k >= line):
            rows = [r for r in by_line[level] if r not in exclude]
            if rows:
                return rows[rng.randrange(len(rows))]
        return None

    def _labs(
        self, rng: random.Random, code: str, first: int, spans: list[list[Any]]
    ) -> set[tuple[int, int]]:
        labs = set()
        screen = rng.random()
        for row, lab in self.onset_labs:
            if code in lab["for"] and screen < lab.get("share", 1.0):
                labs.add((row, first + 1))
        for row, _, start, _ in spans:
            for loinc in self.codes.medications[row].get("monitor", ()):
                labs.add((self.lab_rows[loinc], start + rng.randint(1, 5)))
        return labs


def _pick(cum_weights: list[float], rng: random.Random) -> int:
    """The index drawn from cumulative weights."""
    x = rng.random() * cum_weights[-1]
    for i, w in enumerate(cum_weights):
        if x < w:
            return i
    return len(cum_weights) - 1


def _weighted(rng: random.Random, names: tuple[str, ...], cum: tuple[float, ...]) -> str:
    return rng.choices(names, cum_weights=cum)[0]


def _stamp(day: int, minute: int) -> str:
    """``YYYY-MM-DDTHH:MM:00Z`` for a date ordinal and minutes after midnight."""
    return f"{date.fromordinal(day).isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00Z"


def _vital(table: dict[str, Any], value: float) -> dict[str, Any]:
    decimals = table["decimals"]
    number = round(value, decimals) if decimals else round(value)
    return {
        "loinc_code": table["loinc"],
        "name": table["name"],
        "value": number,
        "unit": table["unit"],
    }


def build_entries(
    history: History, patient_id: str, codes: CodeTables, seed: int
) -> list[dict[str, Any]]:
    """Every entry of a seeded patient, oldest first, from its history."""
    rng = random.Random(f"{seed}:{history.number}:entries")
    rows: list[tuple[str, int, str, dict[str, Any]]] = []  # (recorded_at, order, type, value)
    visit = {day: rng.randrange(8 * 60, 16 * 60 + 1, 15) for day in history.days}

    def at(day: int, offset: int, default: int = 10 * 60) -> str:
        return _stamp(day, visit.get(day, default) + offset)

    height = rng.uniform(codes.vital("body_height")["low"], codes.vital("body_height")["high"])
    bmi = rng.uniform(codes.vital("bmi")["low"], codes.vital("bmi")["high"])
    weight = bmi * (height / 100) ** 2
    pulse = rng.uniform(62, 86)
    heart = codes.vital("heart_rate")
    for i, (day, score) in enumerate(zip(history.days, history.scores, strict=True)):
        rows.append(
            (
                at(day, 0),
                0,
                "pain_scores",
                {"score": score, "scale": "NRS", "location": history.site},
            )
        )
        beat = min(heart["high"], max(heart["low"], pulse + rng.gauss(0, 5)))
        rows.append((at(day, 3), 1, "vitals", _vital(heart, beat)))
        if i == 0:
            rows.append((at(day, 3), 2, "vitals", _vital(codes.vital("body_height"), height)))
            rows.append((at(day, 3), 3, "vitals", _vital(codes.vital("body_weight"), weight)))
            rows.append((at(day, 3), 4, "vitals", _vital(codes.vital("bmi"), bmi)))
            for name, mean, sd in (("respiratory_rate", 15, 2), ("oxygen_saturation", 97.5, 1)):
                table = codes.vital(name)
                value = min(table["high"], max(table["low"], rng.gauss(mean, sd)))
                rows.append((at(day, 3), 5, "vitals", _vital(table, value)))
        else:
            weight += rng.gauss(0, 0.6)
            rows.append((at(day, 3), 3, "vitals", _vital(codes.vital("body_weight"), weight)))
    for (code, display, _), day in zip(history.diagnoses, history.diagnosis_days, strict=True):
        value = {"icd10_code": code, "display": display, "status": "active"}
        rows.append((at(day, 10), 6, "diagnoses", value))
    if history.resolved_day is not None:
        code, display, _ = history.diagnoses[0]
        value = {"icd10_code": code, "display": display, "status": "resolved"}
        rows.append((at(history.resolved_day, 10), 6, "diagnoses", value))
    for span, (row, reason) in zip(history.medications, history.medication_rows, strict=True):
        med = codes.medications[row]
        value = {
            "name": span.name,
            "rxnorm_code": span.rxnorm_code,
            "dose": med["dose"],
            "frequency": med["frequency"],
            "route": med["route"],
            "start_date": date.fromordinal(span.start).isoformat(),
            "end_date": date.fromordinal(span.end).isoformat() if span.end else None,
            "reason_code": reason,
        }
        rows.append((at(span.start, 15), 7, "medications", value))
    for row, day in history.labs:
        lab = codes.labs[row]
        if rng.random() < 0.8:
            low, high = max(lab["low"], lab["ref_low"]), min(lab["high"], lab["ref_high"])
        else:
            low, high = lab["low"], lab["high"]
        number = (
            round(rng.uniform(low, high), lab["decimals"])
            if lab["decimals"]
            else round(rng.uniform(low, high))
        )
        flag = (
            "high" if number > lab["ref_high"] else "low" if number < lab["ref_low"] else "normal"
        )
        value = {
            "loinc_code": lab["loinc"],
            "name": lab["name"],
            "value": number,
            "unit": lab["unit"],
            "reference_low": lab["ref_low"],
            "reference_high": lab["ref_high"],
            "flag": flag,
        }
        rows.append((_stamp(day, rng.randrange(7 * 60 + 30, 11 * 60, 5)), 8, "lab_results", value))
    for row, day in history.procedures:
        proc = codes.procedures[row]
        value = {"name": proc["name"], "body_site": proc["body_site"]}
        if proc.get("code"):
            value = {"code": proc["code"], "code_system": proc["code_system"], **value}
        rows.append((_stamp(day, rng.randrange(10 * 60, 15 * 60, 15)), 9, "procedures", value))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [
        {
            "id": f"cd_{history.number:07x}{k:05x}",
            "patient_id": patient_id,
            "data_type": data_type,
            "recorded_at": stamp,
            "value": value,
            "created_at": stamp,
        }
        for k, (stamp, _, data_type, value) in enumerate(rows, start=1)
    ]
