"""Who a seeded patient is: name, gender, birth date, contact, creation time.

Names follow Faker's en_US frequency tables (drawn with the patient's own
generator, not through Faker's global one); ages are 18 to 90; e-mails are at
``example.com`` and phone numbers in the 555-0100 to 555-0199 block NANPA
reserves for fiction, so no record reaches a real person.
"""

from __future__ import annotations

import random
import re
from datetime import date
from functools import cache
from itertools import accumulate
from typing import Any

from faker.providers.person.en_US import Provider as FakerNames

from pin_mock.server.domain.seed.sampling import LAST_DAY, pick, stamp_at

GENDERS = ("female", "male", "other", "unknown")
_GENDER_CUM = list(accumulate((52, 45, 2, 1)))
#: NANPA reserves 555-0100 to 555-0199 in every area code for fictional use.
_AREA_CODES = ("206", "212", "303", "312", "404", "415", "512", "602", "617", "713")


def draw_patient(rng: random.Random, pid: str, first_visit: int) -> dict[str, Any]:
    """A patient record; ``first_visit`` (its history's first day) bounds ``created_at``."""
    gender = GENDERS[pick(_GENDER_CUM, rng)]
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
        "date_of_birth": date.fromordinal(LAST_DAY - age_days).isoformat(),
        "gender": gender,
        "contact": contact,
        "created_at": stamp_at(created_day, rng.randint(7 * 60, 18 * 60)),
    }


@cache
def _name_table(kind: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Faker's en_US name frequencies, as (names, cumulative weights)."""
    table = getattr(FakerNames, kind)
    return tuple(table), tuple(accumulate(table.values()))


def _weighted(rng: random.Random, names: tuple[str, ...], cum: tuple[float, ...]) -> str:
    return rng.choices(names, cum_weights=cum)[0]
