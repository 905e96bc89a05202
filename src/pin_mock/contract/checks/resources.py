"""Single resources: a GET answers the resource asked for; a create names it in Location."""

from __future__ import annotations

from urllib.parse import urlsplit

from pin_mock.contract.checks.registry import check
from pin_mock.contract.exchange import Exchange, fail, shown
from pin_mock.contract.spec import Spec

#: A property that only the answer to the creating request may show (a webhook's signing secret).
SHOWN_ONCE = "secret"


@check("pin_resource_identity")
def resource_identity(ex: Exchange, spec: Spec) -> None:
    """GET .../{id} returns that resource; webhook secrets are never shown again."""
    if ex.method != "GET" or ex.status != 200 or not spec.in_api(ex.template):
        return
    body = ex.json()
    last = ex.template.rstrip("/").rsplit("/", 1)[-1]
    if isinstance(body, dict) and last.startswith("{") and last.endswith("}"):
        name = last[1:-1]
        asked = ex.path_params.get(name)
        if asked is not None and "id" in body and str(body["id"]) != str(asked):
            fail(
                f"asked for {name}={shown(asked)} and got the resource with id {shown(body['id'])}"
            )
        if "patient_id" in ex.path_params and "patient_id" in body and name != "patient_id":
            if str(body["patient_id"]) != str(ex.path_params["patient_id"]):
                fail(
                    f"entry of patient {shown(body['patient_id'])} served under {shown(ex.path_params['patient_id'])}"
                )
    webhooks = spec.api_prefix.rstrip("/") + "/webhooks"
    if ex.template.startswith(webhooks) and isinstance(body, dict):
        items = body.get("data") if isinstance(body.get("data"), list) else [body]
        if any(isinstance(item, dict) and SHOWN_ONCE in item for item in items):
            fail("a webhook's signing secret is shown after creation (only POST may return it)")


@check("pin_created_location")
def created_location(ex: Exchange, spec: Spec) -> None:
    """A 201/202 to POST /v1/... has a Location naming the created resource."""
    if ex.method != "POST" or ex.status not in (201, 202) or not spec.in_api(ex.template):
        return
    location = ex.header("location")
    if not location:
        fail(f"{ex.status} to POST {ex.template} without a Location header")
    body = ex.json()
    if isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"]:
        path = urlsplit(location).path.rstrip("/")
        if not path.endswith("/" + body["id"]):
            fail(
                f"Location {shown(location)} does not point to the created resource {shown(body['id'])}"
            )
