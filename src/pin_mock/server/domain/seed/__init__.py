"""The seed: seeded, synthetic sandbox data, generated from the tables in ``fixtures/``.

Not to be confused with the ``fixtures/`` folder (the *data* this package
reads: code tables, fixed records, sandbox clients) nor with pytest fixtures.
``generate`` builds a ``SeedData``: demographics plus coherent clinical
histories, the same for the same seed everywhere.

Where each part lives:

- ``generator``     ``generate`` and the ``SeedData`` it returns; fixed records
- ``code_tables``   reading and checking ``fixtures/codes/*.yaml``
- ``demographics``  a patient's name, gender, birth date and contact
- ``history``       a patient's compact clinical ``History`` and how it is drawn
- ``entries``       the API's clinical-data entries, built from a history on use
- ``sampling``      the anchor day and the seeded draws the others share

``generate`` and ``SeedData`` are the package's interface.
"""

from __future__ import annotations

from pin_mock.server.domain.seed.generator import SeedData, generate

__all__ = ["SeedData", "generate"]
