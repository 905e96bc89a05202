"""``POST /_sandbox/reset`` needs every write scope of what it removes.

OWASP API Security Top 10 2023:
- API5:2023 Broken Function Level Authorization: before issue 18 (finding 7)
  a token minted with ``scope=analytics:read`` (403 on ``GET /v1/webhooks``)
  could wipe its client's whole sandbox. A least-privilege token must not be
  able to destroy data it could not have written or even read: the reset now
  needs every write scope of the ``/v1`` operations (what could have created
  what it removes), and answers 403 naming them otherwise, removing nothing.
"""

from __future__ import annotations

import pytest

from harness import Sandbox

RESET = "/_sandbox/reset"
WRITES = "clinical_data:write patients:write reports:write webhooks:write"
JANE = {"name": "Jane Reset", "date_of_birth": "1985-05-20", "gender": "female"}


def _reset(sandbox: Sandbox, scope: str | None) -> tuple[int, dict]:
    token = sandbox.token("sandbox-standard", scope)
    answer = sandbox.http.post(RESET, headers={"Authorization": f"Bearer {token}"})
    return answer.status_code, answer.json()


@pytest.mark.parametrize(
    "scope", ["analytics:read", "webhooks:write", "patients:write clinical_data:write"]
)
def test_a_token_without_every_write_scope_cannot_reset(sandbox: Sandbox, scope: str) -> None:
    created = sandbox.post("/v1/patients", json=JANE, as_client="sandbox-standard").json()["id"]
    status, body = _reset(sandbox, scope)
    assert status == 403
    assert body["error"]["code"] == "FORBIDDEN"
    assert body["error"]["details"]["required_scope"] == WRITES
    # Nothing was removed.
    assert sandbox.get(f"/v1/patients/{created}", as_client="sandbox-standard").status_code == 200


def test_a_token_with_every_write_scope_resets(sandbox: Sandbox) -> None:
    created = sandbox.post("/v1/patients", json=JANE, as_client="sandbox-standard").json()["id"]
    status, body = _reset(sandbox, WRITES)  # no read scope is needed
    assert status == 200 and body["removed"]["patients"] == 1
    answer = sandbox.get(f"/v1/patients/{created}", as_client="sandbox-standard", check=False)
    assert answer.status_code == 404
