"""Whole numbers written by clients (queries, headers): ASCII digits, and not too many.

``str.isdigit()`` is also true for superscripts (``²``) and other Unicode
digits that ``int()`` refuses, and ``int()`` refuses a string of more than
4,300 digits (Python's integer-string limit) with ``ValueError``: either used
to escape as a 500. Every number the sandbox reads from a client's text goes
through ``whole_number`` or ``integer``: anything else is ``None``, and the
caller answers 400 naming the field.
"""

from __future__ import annotations

#: Digits a client's number may have: every such value fits a signed 64-bit integer.
MAX_DIGITS = 18


def whole_number(raw: str | bytes, max_digits: int = MAX_DIGITS) -> int | None:
    """``raw`` as a non-negative int if it is 1 to ``max_digits`` ASCII digits, else None."""
    if not raw or len(raw) > max_digits:
        return None
    if isinstance(raw, str) and not raw.isascii():
        return None
    return int(raw) if raw.isdigit() else None  # bytes.isdigit() is ASCII only


def integer(raw: str, max_digits: int = MAX_DIGITS) -> int | None:
    """``raw`` as an int if it is an optional ``-`` and 1 to ``max_digits`` ASCII digits."""
    if raw.startswith("-"):
        value = whole_number(raw[1:], max_digits)
        return None if value is None else -value
    return whole_number(raw, max_digits)


def too_long(raw: str | bytes, max_digits: int = MAX_DIGITS) -> bool:
    """True if ``raw`` is written as a whole number but has more than ``max_digits`` digits."""
    digits = raw[1:] if raw[:1] in ("-", b"-") else raw
    ascii_text = digits.isascii() if isinstance(digits, str) else True
    return len(digits) > max_digits and ascii_text and digits.isdigit()
