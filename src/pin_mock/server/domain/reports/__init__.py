"""Reports: background jobs that turn analytics into JSON, CSV and PDF files.

Where each part lives:

- ``jobs``       checking a request, the ``pending -> processing -> completed |
                 failed`` lifecycle, start-up and shutdown (``install``, ``jobs_of``)
- ``storage``    reports and their files, in the tenant or in Redis (compare-and-set)
- ``documents``  what a report contains (``ReportDocument``), from the analytics
- ``layout``     what a person reads in the CSV and the PDF: titles, units,
                 percentages, wording, notes (no numbers of its own)
- ``files``      rendering a document as JSON or CSV, media types, file names
- ``pdf``        the PDF rendering with fpdf2 (imported only to render a PDF)

Import names from those modules; this package re-exports nothing (so importing
it never loads fpdf2).
"""
