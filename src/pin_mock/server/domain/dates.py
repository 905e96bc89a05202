"""The one date-range rule, for query parameters, bodies and report parameters alike."""

from __future__ import annotations

from pin_mock.server.errors import InvalidParameter


def check_date_range(
    start: str | None, end: str | None, *, prefix: str = "", blame: str = "start_date"
) -> None:
    """The one date-range rule: a range must not run backwards.

    Both ends were already checked as calendar dates (``format: date``, by the
    format checker of the parameter and body validators). ``prefix`` names
    where the dates sit (``value.`` in a medication, ``parameters.`` in a report
    request); ``blame`` is the end named when the range runs backwards.
    """
    if not (start and end and start > end):
        return
    if blame == "start_date":
        message = f"{prefix}start_date must not be after {prefix}end_date ({end})."
        raise InvalidParameter(f"{prefix}start_date", start, message)
    message = f"{prefix}end_date must not be before {prefix}start_date ({start})."
    raise InvalidParameter(f"{prefix}end_date", end, message)
