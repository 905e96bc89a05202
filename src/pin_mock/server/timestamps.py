"""Times as the API writes them: UTC, whole seconds, ``2024-01-01T00:00:00Z``.

One format everywhere means string order is time order, so stored entries can
be filtered and sorted by comparing strings.
"""

from __future__ import annotations

from datetime import UTC, datetime


def format_utc(moment: datetime) -> str:
    """``moment`` (aware) as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, years always four digits."""
    # strftime("%Y") does not zero-pad years before 1000 on glibc; isoformat does.
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def iso(seconds: float) -> str:
    """A Unix time (as the sandbox clock gives it) in the API's format."""
    return format_utc(datetime.fromtimestamp(seconds, UTC))


def iso_millis(seconds: float) -> str:
    """Like ``iso`` with milliseconds (``...00.123Z``): webhook retries can be sub-second."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def normalise(stamp: str) -> str:
    """An RFC 3339 date-time (already validated) in the API's format.

    Raises ``ValueError`` when it cannot be expressed in UTC (year 1 with a
    positive offset falls before year 1).
    """
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return format_utc(moment)
    except OverflowError as exc:
        raise ValueError(f"{stamp} is outside the years 0001..9999 in UTC") from exc
