"""Headless Chromium against a real sandbox on loopback (Playwright, Debian's chromium).

Playwright drives the browser the machine already has (``/usr/bin/chromium``
from Debian's ``chromium`` package, which ``.ci/run`` installs); it never
downloads one (no ``playwright install``). Without Chromium, or without
Playwright, every test here is skipped and the summary says why (``-ra``).

Every page records what would make a test lie: console errors, uncaught
exceptions, and any request for an address other than 127.0.0.1 (those are
aborted, so the page cannot quietly depend on the internet). A test fails
if any of them happened.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_watch import TIMEOUT_MS, Watch

from loopback import serving
from pin_mock.server import Settings, create_app

#: Chromium's flags: no sandbox (CI runs as root), and nothing that calls home.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    found = os.environ.get("PIN_MOCK_CHROMIUM") or shutil.which("chromium")
    return found or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


CHROMIUM = _chromium()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = None
    if CHROMIUM is None:
        reason = "browser tests need Debian's chromium (apt-get install chromium; .ci/run does)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "browser tests need playwright (pip install -e '.[test]')"
    if reason:
        here = os.path.dirname(__file__)
        for item in items:
            if str(item.path).startswith(here):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    """A sandbox served by uvicorn on a free loopback port."""
    app = create_app(Settings(report_delay=0.0))
    with serving(app, name="browser-sandbox") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def watched_page(browser: Any) -> Iterator[tuple[Any, Watch]]:
    """A fresh page whose console, errors and requests are watched; checked at the end."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = Watch()

    def route(route: Any) -> None:
        url = route.request.url
        watch.requests.append(f"{route.request.method} {url}")
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            watch.outside.append(url)
            route.abort()

    context.route("**/*", route)
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    try:
        yield page, watch
        assert watch.requests, "the page made no request at all"
        assert not watch.problems(), "\n".join(watch.problems())
    finally:
        context.close()
