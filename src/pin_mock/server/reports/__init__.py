"""Reports: background jobs that turn analytics into JSON, CSV and PDF files.

Where each part lives:

- ``jobs``       checking a request, the ``pending -> processing -> completed |
                 failed`` lifecycle, start-up and shutdown (``install``, ``jobs_of``)
- ``documents``  what a report contains (``ReportDocument``), from the analytics
- ``files``      rendering a document as JSON or CSV, media types, file names
- ``pdf``        the PDF rendering with fpdf2 (imported only to render a PDF)

Import names from those modules. The re-exports below keep the imports of
``services.py`` and ``handlers/reports.py`` working; they are for
compatibility only. ``pdf`` is deliberately not imported here.
"""

from __future__ import annotations

from pin_mock.server.reports.documents import FAILING_PATIENT_ID
from pin_mock.server.reports.files import MEDIA_TYPES, filename
from pin_mock.server.reports.jobs import (
    ReportJobs,
    StoredReport,
    check_parameters,
    install,
    jobs_of,
    new_report,
)

__all__ = [
    "FAILING_PATIENT_ID",
    "MEDIA_TYPES",
    "ReportJobs",
    "StoredReport",
    "check_parameters",
    "filename",
    "install",
    "jobs_of",
    "new_report",
]
