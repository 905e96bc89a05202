"""A trigram index for substring search over patients (seeded, and each tenant's created).

``search`` must match anywhere in a name or id, case-insensitively. A scan of
100,000 strings per request costs milliseconds; the index narrows a term to the
rows holding all of its trigrams, then confirms each with a substring test, so
its answers are exactly those of the scan, in row order. The seeded patients
are indexed once; a tenant's created patients are appended one by one (rows
are never removed: a tenant's patients go only when its sandbox is reset, which
drops the whole tenant and its index). On the Redis engine a tenant's index
is a string of lines scanned by a Lua script (``state/redis/tenant_scripts.py``).
"""

from __future__ import annotations

from array import array
from typing import Any


def grams(text: str) -> set[str]:
    """The trigrams of ``text``."""
    return {text[i : i + 3] for i in range(len(text) - 2)}


def search_key(patient: dict[str, Any]) -> str:
    """What ``search`` matches in a patient: its id and name, lower-cased."""
    return f"{patient['id']} {patient['name']}".lower()


class TrigramIndex:
    """Row numbers of the keys containing a term, in row order."""

    def __init__(self, keys: list[str] | None = None) -> None:
        self._keys: list[str] = []
        self._postings: dict[str, array] = {}
        for key in keys or ():
            self.add(key)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> int:
        """Index ``key`` (already lower-cased) as the next row; its row number."""
        row = len(self._keys)
        self._keys.append(key)
        postings = self._postings
        for gram in grams(key):
            posting = postings.get(gram)
            if posting is None:
                posting = postings[gram] = array("i")
            posting.append(row)  # rows only grow, so every posting stays sorted
        return row

    def find(self, term: str) -> list[int]:
        """Rows whose key contains ``term`` (already lower-cased)."""
        keys = self._keys
        if len(term) < 3:
            return [row for row, key in enumerate(keys) if term in key]
        lists = sorted((self._postings.get(g) for g in grams(term)), key=lambda p: len(p or ()))
        if not lists or lists[0] is None:
            return []
        candidates = set(lists[0])
        for posting in lists[1:4]:  # a few intersections prune enough; confirm the rest
            candidates.intersection_update(posting)
            if not candidates:
                return []
        return [row for row in sorted(candidates) if term in keys[row]]
