"""The contract-testing kit: tests any PIN implementation against the spec it is given.

Layers, each importing only those below it (and nothing from ``pin_mock.server``):

- entry points: ``command`` (``pin-mock contract``, ``contract replay``),
  ``tools_command`` (``pin-mock proxy``, ``pin-mock diff``), ``pytest_plugin`` /
  ``pytest_suite``, ``hooks`` (for plain ``st run``);
- running: ``runner`` (one run, in order), ``replay``, ``proxy``, ``diff``;
  ``schemathesis_run`` (the ``st run`` subprocess), ``probes/`` (the kit's own
  scripted requests), ``target`` (their HTTP client), ``cleanup``, ``coverage``,
  ``discovery``, ``waiting``;
- reporting: ``verdict`` and ``output/``, which read a ``result`` and never the runner;
- judging: ``checks/`` (one registry of response checks), ``conformance``,
  ``requests_check``, ``exchange``, ``findings``;
- facts: ``spec``, ``operation``, ``openapi``, ``examples``, ``selection``, ``tokens``,
  ``sandbox_client`` (entry points only).

Importing this package imports nothing.
"""
