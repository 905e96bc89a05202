"""Reports: what a report contains and the files it is rendered as; accepting requests.

Where each part lives:

- ``service``    checking a request, storing it ``pending`` with its job queued,
                 reading reports and files (``Reports``)
- ``sources``    what a document is built from: the store and the sandbox clock
- ``documents``  what a report contains (``ReportDocument``), from the analytics
- ``layout``     what a person reads in the CSV and the PDF: titles, units,
                 percentages, wording, notes (no numbers of its own)
- ``files``      rendering a document as JSON or CSV, media types, file names
- ``pdf``        the PDF rendering with fpdf2 (imported only to render a PDF)

The job that builds a report is ``background/report_jobs.py``; where reports
are kept is the engine's ``ReportStore`` (``state/ports.py``). Import names from
those modules; this package re-exports nothing (so importing it never loads fpdf2).
"""
