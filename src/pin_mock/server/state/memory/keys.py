"""Signing keys and id space in memory: this process's own (``SigningKeys``, ``IdSpace``).

A restart makes new keys (tokens issued before it no longer verify) and a new
id key; created objects are lost with the process anyway.
"""

from __future__ import annotations

import secrets


class MemorySigningKeys:
    """``SigningKeys`` in a dictionary."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    def get(self, kid: str) -> str | None:
        return self._keys.get(kid)

    def create(self, kid: str, secret: str) -> str:
        return self._keys.setdefault(kid, secret)

    def kids(self) -> list[str]:
        return list(self._keys)

    def delete(self, kids: list[str]) -> None:
        for kid in kids:
            self._keys.pop(kid, None)


class MemoryIdSpace:
    """``IdSpace`` of one process: a random key, and the whole counter its own."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def key(self) -> bytes:
        return self._key

    def incarnation(self) -> int | None:
        return None
