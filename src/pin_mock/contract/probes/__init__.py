"""The kit's own probes: scripted requests for what Schemathesis does not test by itself.

``framework.py`` is what every probe uses; ``auth.py`` and ``state.py`` hold the
probes; ``catalogue.py`` puts them in running order. Nothing is imported here.
"""
