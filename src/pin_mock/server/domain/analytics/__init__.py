"""Outcomes and population health, computed from the clinical data, never invented.

Every number is a sum over the patients a client can see, of facts taken from
the same entries the clinical-data endpoints return: for a seeded patient from
its compact ``History`` (the facts ``seed.build_entries`` turns into entries),
for anything a client touched from its entries. Because the numbers are sums,
the seeded part is computed once per parameter set and cached, and a client's
view is that sum with its own patients' parts swapped in: what it created
counts, nothing of another client's does.

Where each part lives:

- ``facts``             what is read of one patient (``Facts``)
- ``patient_outcomes``  ``GET /v1/analytics/outcomes`` and its definitions
- ``population``        ``GET /v1/analytics/population-health`` and its definitions
- ``insights``          the plain-language lines of the population answer
- ``medications``       counting medications by patients, for both
- ``warmup``            computing the seeded sums at start-up

``outcomes``, ``population_health`` and ``warm`` are the package's interface
(the handlers, reports and the services' warm-up call them).
"""

from __future__ import annotations

from pin_mock.server.domain.analytics.patient_outcomes import outcomes
from pin_mock.server.domain.analytics.population import population_health
from pin_mock.server.domain.analytics.warmup import warm

__all__ = ["outcomes", "population_health", "warm"]
