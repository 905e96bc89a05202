"""The docs as an integrator sees them, in headless Chromium: /docs (Swagger UI) and /reference.

Both show the sandbox's view of the contract (PIN's operations and the
sandbox's own). Each test gets a watched page (``conftest.py``): it fails on a
console error it did not expect, an uncaught exception, or a request that
leaves 127.0.0.1.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import yaml
from browser_watch import TIMEOUT_MS, Watch
from redoc_samples import LANGUAGES, MARKERS, samples_as_rendered

from pin_mock._bundled import spec_path
from pin_mock.overlays import sandbox_document

METHODS = {"get", "post", "put", "patch", "delete"}
#: What Chromium logs for the 401 a wrong secret gets (the page shows the error itself).
LOGGED_401 = "Failed to load resource: the server responded with a status of 401 (Unauthorized)"


def view() -> dict:
    """The sandbox's view of the bundled spec: what /docs and /reference show."""
    return sandbox_document(yaml.safe_load(spec_path().read_text(encoding="utf-8")), strict=True)


def operations() -> list[tuple[str, str]]:
    """(tag, operationId) of every operation the pages show."""
    spec = view()
    return [
        (op["tags"][0], op["operationId"])
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in METHODS
    ]


def summaries() -> list[str]:
    """The ``summary`` of every operation the pages show."""
    spec = view()
    return [
        op["summary"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in METHODS
    ]


def open_docs(page: Any, sandbox_url: str) -> None:
    page.goto(f"{sandbox_url}/docs/")
    page.wait_for_selector(".opblock")


def authorize(page: Any, secret: str | None = None) -> tuple[Any, int]:
    """Open Authorize, optionally type a secret, press Authorize: the modal, the token status."""
    page.click("button.authorize")
    modal = page.locator(".modal-ux")
    modal.wait_for()
    if secret is not None:
        modal.locator("#client_secret").fill(secret)
    with page.expect_response(lambda r: r.url.endswith("/oauth/token")) as token:
        modal.locator("button.authorize").click()
    return modal, token.value.status


def test_the_page_is_the_sandboxs_and_shows_every_operation(
    watched_page: tuple[Any, Watch], sandbox_url: str
) -> None:
    page, _ = watched_page
    open_docs(page, sandbox_url)
    assert page.title() == "PIN API sandbox"
    shown = page.locator(".opblock").evaluate_all("els => els.map(e => e.id)")
    assert shown == [f"operations-{tag.replace(' ', '_')}-{op}" for tag, op in operations()]
    servers = page.locator(".servers select option").all_inner_texts()
    assert len(servers) == 1 and servers[0].startswith(sandbox_url), servers  # this sandbox only


def test_authorize_with_the_right_secret_gets_a_token(
    watched_page: tuple[Any, Watch], sandbox_url: str
) -> None:
    page, _ = watched_page
    open_docs(page, sandbox_url)
    page.click("button.authorize")
    modal = page.locator(".modal-ux")
    modal.wait_for()
    # Filled in from the sandbox's public clients file.
    assert modal.locator("#client_id").input_value() == "sandbox-standard"
    page.click(".modal-ux button.btn-done")
    modal, status = authorize(page)
    assert status == 200
    modal.locator("button.authorize", has_text="Logout").wait_for()
    assert modal.locator(".errors").count() == 0


def test_a_wrong_secret_is_an_error_in_the_page(
    watched_page: tuple[Any, Watch], sandbox_url: str
) -> None:
    # With `WWW-Authenticate: Basic` the browser would raise its own login
    # challenge and the page would wait on it (headless: forever, until the timeout).
    page, watch = watched_page
    watch.expected_console_errors.append(LOGGED_401)
    open_docs(page, sandbox_url)
    modal, status = authorize(page, secret="not-the-secret")
    assert status == 401
    error = modal.locator(".errors")
    error.wait_for(timeout=TIMEOUT_MS)
    assert "invalid_client" in error.inner_text()
    assert "Client authentication failed" in error.inner_text()
    assert modal.locator("button.authorize", has_text="Authorize").is_visible()


def test_try_it_out_searches_patients(watched_page: tuple[Any, Watch], sandbox_url: str) -> None:
    page, watch = watched_page
    open_docs(page, sandbox_url)
    modal, _ = authorize(page)
    modal.locator("button.authorize", has_text="Logout").wait_for()
    page.click(".modal-ux button.btn-done")

    operation = page.locator("#operations-Patients-listPatients")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("input[placeholder='search']").fill("John")
    with page.expect_response(lambda r: "/v1/patients?" in r.url) as answer:
        operation.locator("button.execute").click()
    response = answer.value
    assert response.status == 200
    assert response.url.startswith(f"{sandbox_url}/v1/patients?")
    assert "search=John" in response.url
    names = [p["name"] for p in response.json()["data"]]
    assert "John Doe" in names and all("john" in n.lower() for n in names)
    shown = operation.locator(".live-responses-table")
    shown.wait_for()
    assert "John Doe" in shown.inner_text()
    assert any(r.startswith("GET") and "search=John" in r for r in watch.requests)


def test_the_reference_renders_every_operation(
    request: pytest.FixtureRequest, sandbox_url: str
) -> None:
    status = httpx.get(f"{sandbox_url}/reference", timeout=30).status_code
    if status != 200:
        pytest.skip(f"/reference answers {status}: the reference is not built (make docs)")
    page, _ = request.getfixturevalue("watched_page")  # only once there is a page to watch
    page.goto(f"{sandbox_url}/reference")
    menu = page.get_by_test_id("menu-item-label")
    menu.first.wait_for()
    opened = None
    for (tag, op), summary in zip(operations(), summaries(), strict=True):
        if tag != opened:  # the menu lists a tag's operations once the tag is open
            menu.filter(has_text=re.compile(f"^{re.escape(tag)}$")).first.click()
            opened = tag
        # Redoc renders an operation as the reader reaches it: go there, see its heading.
        # The label is the summary and the method (lower case, shown upper case by CSS).
        label = re.compile(f"^{re.escape(summary)}\\s*(get|post|put|patch|delete)$", re.I)
        menu.filter(has_text=label).first.click()
        slug = tag.lower().replace(" ", "-")
        page.locator(f"[data-section-id='/{slug}/{op.lower()}']").first.wait_for(state="attached")
        page.locator("h2").filter(has_text=re.compile(f"^{re.escape(summary)}$")).first.wait_for()


def test_the_sandboxs_reset_can_be_tried_in_the_docs(
    watched_page: tuple[Any, Watch], sandbox_url: str
) -> None:
    page, _ = watched_page
    open_docs(page, sandbox_url)
    modal, _ = authorize(page)
    modal.locator("button.authorize", has_text="Logout").wait_for()
    page.click(".modal-ux button.btn-done")
    operation = page.locator("#operations-Sandbox-resetSandbox")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    with page.expect_response(lambda r: r.url.endswith("/_sandbox/reset")) as answer:
        operation.locator("button.execute").click()
    assert answer.value.status == 200
    assert answer.value.json()["client_id"] == "sandbox-standard"
    shown = operation.locator(".live-responses-table")
    shown.wait_for()
    assert '"reset": true' in shown.inner_text()


def test_the_reference_shows_every_language_of_every_operation(
    request: pytest.FixtureRequest, sandbox_url: str
) -> None:
    status = httpx.get(f"{sandbox_url}/reference", timeout=30).status_code
    if status != 200:
        pytest.skip(f"/reference answers {status}: the reference is not built (make docs)")
    page, _ = request.getfixturevalue("watched_page")
    page.goto(f"{sandbox_url}/reference")
    page.get_by_test_id("menu-item-label").first.wait_for()
    shown = {op: samples_as_rendered(page, tag, op) for tag, op in operations()}
    assert (
        len(shown) == 33
    )  # PIN's 18; reset, probes (3), journal (2), chaos (3), events (2), clock (4)
    for op, samples in shown.items():
        assert list(samples) == list(LANGUAGES), op
        for label, text in samples.items():
            assert MARKERS[label] in text, (op, label, text[:200])
            # Written for 127.0.0.1:8080, shown for the address the page came from.
            assert sandbox_url in text and "127.0.0.1:8080" not in text, (op, label)
        assert "--fail-with-body" in samples["curl"] or "curl -fsS" in samples["curl"], op
