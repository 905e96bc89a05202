"""One rounding rule for every number a person reads: insights, CSV and PDF reports.

The API's numbers are already rounded where they are computed (means of pain
scores to 2 decimals, shares to 4); what people read shows those same numbers,
never rounded again: a mean of 4.76 reads ``4.76`` in the summary, the table
and the insight sentence alike, and a share of 0.3173 reads ``31.73%``.
"""

from __future__ import annotations


def percent_number(share: float | None) -> float | None:
    """``0.3173`` -> ``31.73`` (a cell under a "(%)" title): the share's digits, nothing lost."""
    return None if share is None else round(share * 100, 2)


def percent(share: float | None) -> str:
    """``0.3173`` -> ``"31.73%"``; ``"n/a"`` when there is nothing to divide."""
    number = percent_number(share)
    return "n/a" if number is None else f"{number:g}%"


def number(value: float | None) -> str:
    """A mean or a change as the API gives it: ``4.76``, ``5``, ``-1.2``; ``"n/a"`` for none."""
    return "n/a" if value is None else f"{value:g}"
