"""Analytics facts: a seeded history reads the same as the entries built from it."""

from __future__ import annotations

from harness import Sandbox
from pin_mock.server.domain.analytics.facts import facts_from_entries


def test_seeded_histories_give_the_same_facts_as_their_entries(sandbox: Sandbox) -> None:
    store = sandbox.services.store
    for pid, history in store.seed.histories.items():
        facts = facts_from_entries(store.seed.entries[pid])
        assert list(facts.days) == list(history.days)
        assert list(facts.scores) == list(history.scores)
        assert sorted(facts.diagnoses) == sorted(history.diagnoses)
        assert sorted(facts.medications) == sorted(history.medications)
