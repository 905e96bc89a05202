"""Thin request handlers, one module per resource, resolved from ``operationId``.

The module is the operation's tag (``Clinical Data`` -> ``clinical_data``) and
the function is the ``operationId`` in snake case (``listPatients`` ->
``list_patients``).
"""
