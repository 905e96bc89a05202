"""Tokens the auth probes send: forged from the spec's scopes, or damaged."""

from __future__ import annotations

import base64
import json

from kit_helpers import SPEC
from pin_mock.contract.probes.auth import damaged, forged_token


def test_forged_token_is_an_unsigned_jwt_claiming_every_scope():
    header, claims, signature = forged_token("client", SPEC.scopes).split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    assert decode(header)["alg"] == "none" and signature == ""
    assert decode(claims)["sub"] == "client" and "patients:write" in decode(claims)["scope"]


def test_damaged_token_differs_only_in_its_signature():
    token = "aaa.bbb.cccccccc"
    broken = damaged(token)
    assert broken != token and broken.startswith("aaa.bbb.") and len(broken) == len(token)
    assert damaged("opaque-token") != "opaque-token"
