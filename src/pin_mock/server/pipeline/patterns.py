"""JSON Schema ``pattern``s with their ECMA-262 meaning, run by Python's ``re``.

A JSON Schema pattern is an ECMA-262 regular expression, and the spec is read
by JavaScript tools (Swagger UI, generators, fuzzers) as well as by the sandbox.
Python's ``re`` reads the same text differently in a few places: ``\\s`` also
matches U+001C-U+001F and U+0085 but not U+FEFF, ``\\d`` and ``\\w`` match any
Unicode digit or letter, ``.`` matches U+2028/U+2029 and a carriage return,
and ``$`` also matches before a final line feed. ``to_python`` rewrites those
tokens into the classes ECMA-262 means, so a value is accepted by the sandbox
exactly when an ECMA-262 engine (non-Unicode mode) accepts it.
"""

from __future__ import annotations

import re
from functools import cache

# ECMA-262 WhiteSpace and LineTerminator code points (what its \s matches).
_SPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_DIGIT = "0-9"
_WORD = "A-Za-z0-9_"
#: Escapes whose members are listed as they are in ECMA-262 (usable inside a class).
_CLASS_ESCAPES = {"s": _SPACE, "d": _DIGIT, "w": _WORD}
_LINE_TERMINATORS = "\\n\\r\\u2028\\u2029"


class UnsupportedPattern(ValueError):
    """A pattern using ECMA-262 syntax this translation does not cover."""


@cache
def to_python(pattern: str) -> re.Pattern[str]:
    """Compile an ECMA-262 ``pattern`` into a Python regex with the same meaning."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escape = pattern[i + 1]
            i += 2
            if escape.lower() in _CLASS_ESCAPES:
                members = _CLASS_ESCAPES[escape.lower()]
                if escape.islower():
                    out.append(members if in_class else f"[{members}]")
                elif in_class:
                    # A negated escape inside a class has no plain-class spelling.
                    raise UnsupportedPattern(f"\\{escape} inside a character class: {pattern!r}")
                else:
                    out.append(f"[^{members}]")
            else:
                out.append("\\" + escape)
            continue
        if in_class:
            in_class = char != "]"  # in ECMA-262 a ] always ends the class
            out.append(char)
        elif char == "[":
            negated = pattern.startswith("^", i + 1)
            if pattern.startswith("]", i + 2 if negated else i + 1):
                # [] and [^] (never, anything) read differently in Python.
                raise UnsupportedPattern(f"an empty character class: {pattern!r}")
            in_class = True
            out.append("[^" if negated else "[")
            i += 1 if negated else 0
        elif char == "$":
            out.append(r"\Z")  # ECMA-262 $ (without the m flag) is the end of the input only
        elif char == ".":
            out.append(f"[^{_LINE_TERMINATORS}]")
        else:
            out.append(char)
        i += 1
    return re.compile("".join(out))


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern`` as an ECMA-262 engine reads it (a search)."""
    return to_python(pattern).search(value) is not None
