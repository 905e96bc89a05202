"""Thin request handlers, one module per tag, resolved from the spec (``pipeline/routing.py``).

The module is the operation's tag (``Clinical Data`` -> ``clinical_data``) and
the function is the ``operationId`` in snake case (``listPatients`` ->
``list_patients``). A handler names what it uses as parameters: the spec's
parameters, ``body``, ``caller``, and the services it needs (``store``,
``events``, ``reports``, ``webhooks``, ``clock``...; ``pipeline/operations.py``).
"""
