"""The contract-testing kit: tests any PIN implementation against the spec it is given.

Layers, each importing only those below it (and nothing from ``pin_mock.server``):

- entry points: ``command`` (``pin-mock contract``), ``runner`` (``run_contract``),
  ``pytest_plugin`` / ``pytest_suite``, ``hooks`` (for plain ``st run``);
- running: ``schemathesis_run`` (the ``st run`` subprocess), ``probes/`` (the kit's
  own scripted requests), ``target`` (their HTTP client), ``output/`` (progress,
  summary, JUnit/HAR);
- judging: ``checks/`` (one registry of response checks), ``exchange``, ``findings``;
- facts: ``spec`` (everything read from the OpenAPI file), ``tokens``, ``sandbox_client``.

Importing this package imports nothing.
"""
