"""The README's facts that code can check: settings, flags, the Quick start."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from pin_mock.cli import serve
from pin_mock.server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = [
    ROOT / "README.md",
    *[p for p in [ROOT / "ARCHITECTURE.md"] if p.exists()],  # being written (issue 9)
    ROOT / "bench" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]


def test_quick_start_is_make_serve_and_make_test() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make serve" in quick_start and "make test" in quick_start


def test_readme_lists_every_environment_variable_of_the_settings() -> None:
    expected = {f"PIN_MOCK_{f.name.upper()}" for f in fields(Settings)}
    configuration = README.split("### Configuration", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"PIN_MOCK_[A-Z_]+", configuration)) == expected


def test_docs_name_only_real_environment_variables() -> None:
    real = {f"PIN_MOCK_{f.name.upper()}" for f in fields(Settings)} | {
        "PIN_MOCK_LONG",
        "PIN_MOCK_MUTANTS",
    }
    for doc in DOCS:
        named = set(re.findall(r"PIN_MOCK_[A-Z_]*[A-Z]", doc.read_text()))
        assert named <= real, f"{doc.name} names {sorted(named - real)}"


def test_readme_lists_every_serve_flag() -> None:
    configuration = README.split("### Configuration", 1)[1].split("\n## ", 1)[0]
    for option in serve.params:
        for flag in [*option.opts, *option.secondary_opts]:
            if flag.startswith("--") and flag != "--help":
                assert f"`{flag}" in configuration, flag


def test_relative_links_resolve() -> None:
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if "://" in target:
                continue
            assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)} links to {target}"
