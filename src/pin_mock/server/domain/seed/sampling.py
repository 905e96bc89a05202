"""The calendar of the seeded data and the seeded draws every generator shares.

Seeded histories end on ``ANCHOR``, so the data does not move with the
calendar. Weighted choices use cumulative weights and one ``rng.random()``
each: the exact sequence of draws is what makes a seed reproduce its data, so
change these only knowing every generated value changes with them.
"""

from __future__ import annotations

import random
from datetime import date

#: Seeded histories end on this day, so the data does not move with the calendar.
ANCHOR = date(2024, 12, 31)
#: ``ANCHOR`` as a date ordinal (generation works in ordinals).
LAST_DAY = ANCHOR.toordinal()


def pick(cum_weights: list[float], rng: random.Random) -> int:
    """The index drawn from cumulative weights."""
    x = rng.random() * cum_weights[-1]
    for i, w in enumerate(cum_weights):
        if x < w:
            return i
    return len(cum_weights) - 1


def stamp_at(day: int, minute: int) -> str:
    """``YYYY-MM-DDTHH:MM:00Z`` for a date ordinal and minutes after midnight."""
    return f"{date.fromordinal(day).isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00Z"
