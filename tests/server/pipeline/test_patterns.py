"""JSON Schema patterns are read as ECMA-262 reads them (``server/patterns.py``)."""

from __future__ import annotations

import pytest

from pin_mock.server.pipeline.patterns import UnsupportedPattern, matches, to_python
from pin_mock.server.pipeline.validation import compile_validator


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        # ECMA-262's \s has no U+001C-U+001F or U+0085 (Python's has), but has U+FEFF.
        (r"^https?://[^/\s]+", "http://\x1f\x1f", True),
        (r"^\s$", "\x1f", False),
        (r"^\s$", "\x85", False),
        (r"^\s$", "\ufeff", True),
        (r"^\S+$", "\x1f\x1f", True),
        # \d and \w are ASCII only.
        (r"^\d+$", "٢٠٢٤", False),
        (r"^\d+$", "2024", True),
        (r"^\w+$", "é", False),
        # $ is the end of the input only; . stops at every line terminator.
        (r"^abc$", "abc\n", False),
        (r"^abc$", "abc", True),
        (r"^.$", "\u2028", False),
        (r"^.$", "\r", False),
        (r"^[.]$", "\r", False),
        (r"^[$]$", "$", True),
        (r"^a\$$", "a$", True),
    ],
)
def test_ecma_262_meaning(pattern: str, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


@pytest.mark.parametrize("pattern", [r"[\S]", r"[^\D]", "[]", "[^]"])
def test_what_has_no_plain_translation_is_refused_by_name(pattern: str) -> None:
    with pytest.raises(UnsupportedPattern):
        to_python(pattern)


def test_validators_use_the_ecma_262_reading() -> None:
    validator = compile_validator({"type": "string", "pattern": r"^https?://[^/\s]+"})
    assert not list(validator.iter_errors("http://\x1f\x1f"))
    assert list(validator.iter_errors("http:// x"))


def test_nullable_beside_a_reference_admits_null() -> None:
    validator = compile_validator(
        {"nullable": True, "allOf": [{"type": "string", "enum": ["low", "high"]}]}
    )
    assert not list(validator.iter_errors(None))
    assert list(validator.iter_errors("medium"))
