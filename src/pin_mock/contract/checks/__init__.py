"""PIN's response checks: one registry (``registry.py``), loaded whole by ``catalogue.py``.

Nothing is imported here, so importing one check module does not load the rest.
"""
