"""What a watched page records (``conftest.watched_page``), and the tests' time bound."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Generous bounds for a loaded 2-core machine; no test depends on being fast.
TIMEOUT_MS = 30_000


@dataclass
class Watch:
    """What happened in one page that a passing test must not have."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    #: Console errors a test expects, by exact text (Chromium logs every 4xx it loads).
    expected_console_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        unexpected = [m for m in self.console_errors if m not in self.expected_console_errors]
        return (
            [f"console error: {m}" for m in unexpected]
            + [f"uncaught: {m}" for m in self.page_errors]
            + [f"request left 127.0.0.1: {u}" for u in self.outside]
        )
