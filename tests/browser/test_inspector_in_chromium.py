"""The request inspector (``/_sandbox/inspector``) as an integrator keeps it open, in Chromium.

Signed in like Authorize on /docs (client id and secret, or a token, kept in the
page), it shows each exchange of that client as it happens: a request the test
makes appears on the open page within a second, with its details, redacted
token and, for a refused request, the reason in the spec's words.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from browser_watch import Watch

#: The issue's bound: a request appears on the open page within a second.
WITHIN_MS = 1_000


def sign_in(page: Any, sandbox_url: str, *, token: str | None = None) -> None:
    page.goto(f"{sandbox_url}/_sandbox/inspector")
    if token is not None:
        page.fill("#token", token)
    page.click("#signin-button")
    page.wait_for_selector("#state.live")


def token_for(sandbox_url: str, client_id: str) -> str:
    answer = httpx.post(
        f"{sandbox_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, f"{client_id}-secret"),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_a_request_appears_on_the_open_page_within_a_second(
    watched_page: tuple[Any, Watch], sandbox_url: str
) -> None:
    page, _watch = watched_page
    sign_in(page, sandbox_url)  # the first client, filled in as on /docs
    assert "sandbox-standard" in page.text_content("#who")
    token = token_for(sandbox_url, "sandbox-standard")
    marker = f"/v1/patients/patient_{time.monotonic_ns()}"
    answered = httpx.get(f"{sandbox_url}{marker}", headers={"Authorization": f"Bearer {token}"})
    assert answered.status_code == 404
    row = page.wait_for_selector(f'#rows tr:has-text("{marker}")', timeout=WITHIN_MS)
    row.click()
    detail = page.text_content("#detail")
    assert "Bearer [redacted]" in detail and token not in detail
    assert "Patient" in detail and "not found" in detail  # the 404's reason, as answered
    assert token not in page.url and "secret" not in page.url


def test_a_refused_request_shows_its_reason_and_another_clients_do_not_show(
    watched_page: tuple[Any, Watch], sandbox_url: str
) -> None:
    page, _watch = watched_page
    token = token_for(sandbox_url, "sandbox-professional")
    sign_in(page, sandbox_url, token=token)
    assert "sandbox-professional" in page.text_content("#who")
    other = token_for(sandbox_url, "sandbox-readonly")
    hidden = httpx.get(
        f"{sandbox_url}/v1/patients?limit=7", headers={"Authorization": f"Bearer {other}"}
    )
    refused = httpx.get(
        f"{sandbox_url}/v1/patients?limit=500", headers={"Authorization": f"Bearer {token}"}
    )
    assert hidden.status_code == 200 and refused.status_code == 400
    row = page.wait_for_selector('#rows tr:has-text("limit=500")', timeout=WITHIN_MS)
    row.click()
    reason = page.text_content("#detail .reason")
    assert "INVALID_PARAMETER" in reason and "parameter limit" in reason
    assert "1 to 100" in reason  # the spec's rule
    assert page.query_selector('#rows tr:has-text("limit=7")') is None  # not this client's
