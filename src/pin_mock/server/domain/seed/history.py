"""A seeded patient's clinical history, drawn compactly.

A history is coherent: a primary diagnosis at the first visit and a first-line
drug for it (its ``reason_code``); a pain score at every visit, following one
of a few courses (marked improvement, improvement only after a second-line
drug, partial, none, worsening); when the first drug does not work, it is
stopped and a second-line drug (sometimes an injection) follows; sometimes a
second diagnosis with its own drug; monitoring labs for the drugs that need
them; procedures; and an episode of back or neck pain that settles may be
marked resolved.

To scale to 100,000 patients, a ``History`` keeps only what analytics read
(diagnoses, medication spans, visit days and scores) and the few choices the
entries follow from; ``entries.build_entries`` expands it.
"""

from __future__ import annotations

import math
import random
from array import array
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, NamedTuple

from pin_mock.server.domain.seed.code_tables import CodeTables
from pin_mock.server.domain.seed.sampling import LAST_DAY, pick

#: Courses of pain over time, with their share of patients (percent).
COURSES = ("responder", "late_responder", "partial", "non_responder", "worsening")
_COURSE_CUM = list(accumulate((35, 20, 20, 15, 10)))
_BASELINES = (4, 5, 6, 7, 8, 9)
_BASELINE_CUM = list(accumulate((1, 3, 5, 5, 4, 2)))


class MedicationSpan(NamedTuple):
    """One medication order as analytics see it: days are date ordinals."""

    name: str
    rxnorm_code: str | None
    start: int
    end: int | None


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


class HistoryDrawer:
    """Draws histories from per-patient generators, with the code tables' choices precomputed."""

    def __init__(self, codes: CodeTables) -> None:
        self.codes = codes
        self.dx_cum = codes.diagnosis_weights
        self.lab_rows = {lab["loinc"]: i for i, lab in enumerate(codes.labs)}
        # Per diagnosis code: medication rows by line, lowest line first.
        self.options: dict[str, dict[int, list[int]]] = {}
        for i, med in enumerate(codes.medications):
            for code in med["treats"]:
                self.options.setdefault(code, {}).setdefault(int(med["line"]), []).append(i)
        self.onset_labs = [(i, lab) for i, lab in enumerate(codes.labs) if lab.get("for")]

    def history(
        self, rng: random.Random, number: int, hint: tuple[dict[str, Any], int] | None
    ) -> History:
        codes = self.codes
        if hint:
            primary, first = hint
            last = LAST_DAY
        else:
            primary = codes.diagnoses[pick(self.dx_cum, rng)]
            first = LAST_DAY - rng.randint(60, 720)
            # Some patients stop coming back.
            last = min(LAST_DAY, first + rng.randint(60, 300)) if rng.random() < 0.15 else LAST_DAY
        days = array("i")
        day = first
        while day <= last:
            days.append(day)
            day += 14 + int(rng.random() * 29)  # 14 to 42 days; randint is 10x slower
        n = len(days)
        course = COURSES[pick(_COURSE_CUM, rng)]
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
            other = codes.diagnoses[pick(self.dx_cum, rng)]
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
            labs=tuple(sorted((r, d) for r, d in labs if d <= LAST_DAY)),
            procedures=tuple((r, d) for r, d in procedures if d <= LAST_DAY),
        )

    @staticmethod
    def _scores(rng: random.Random, days: array, course: str, escalate: int | None) -> bytearray:
        """One NRS score per visit: an exponential approach to the course's target."""
        baseline = _BASELINES[pick(_BASELINE_CUM, rng)]
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
