"""The request journal (issue 20): each client's last exchanges, safe to keep and to show.

``service.py`` (list, filter, follow), ``entries.py`` (an exchange made into an
entry), ``redaction.py`` (what is never kept), ``reasons.py`` (why a 4xx, in
the spec's words). The engines keep entries behind ``state/journal_port.py``.
"""
