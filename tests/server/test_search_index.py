"""The trigram index finds exactly what a substring scan finds."""

from __future__ import annotations

import random

from pin_mock.server.search_index import TrigramIndex


def test_index_agrees_with_a_scan_for_every_term_length() -> None:
    rng = random.Random(3)
    letters = "abcdefghij _"
    keys = ["".join(rng.choice(letters) for _ in range(rng.randint(0, 20))) for _ in range(500)]
    index = TrigramIndex(keys)
    for term in ["", "a", "ab", "abc", "a b", "jjj", "hij", "zzz", *(k[2:8] for k in keys[:50])]:
        assert index.find(term) == [i for i, k in enumerate(keys) if term in k], term


def test_term_with_unknown_trigram_finds_nothing() -> None:
    assert TrigramIndex(["john doe", "jane smith"]).find("xyz") == []


def test_added_keys_are_found_like_initial_ones() -> None:
    rng = random.Random(5)
    letters = "abcdef _"
    keys = ["".join(rng.choice(letters) for _ in range(rng.randint(0, 16))) for _ in range(300)]
    built, grown = TrigramIndex(keys), TrigramIndex()
    for key in keys:
        grown.add(key)
    assert len(grown) == len(keys)
    for term in ["", "a", "ab", "abc", "f e", *(k[1:6] for k in keys[:40])]:
        assert grown.find(term) == built.find(term), term
