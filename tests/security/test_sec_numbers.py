"""Numbers a client writes in a query or a header: ASCII digits, not too many, else 400.

OWASP API Security Top 10 2023:
- API8:2023 Security Misconfiguration (errors that leak internals): before
  issue 18 (finding 8) ``Prefer: delay=²``, ``code=²²²`` and ``delay=¹¹``
  answered 500 with a traceback in the log (``str.isdigit()`` accepts
  superscripts, ``int()`` refuses them), and so did ``?page=``, ``?limit=`` or
  ``Prefer: delay=`` with more than 4,300 digits (Python's integer-string
  limit); exactly 4,300 digits were accepted and echoed. Now every number read
  from a client's text is ASCII digits with at most 18 of them (what fits a
  64-bit integer), and anything else is 400 naming the field.
- API4:2023 Unrestricted Resource Consumption: ``int()`` of thousands of
  digits is quadratic work; it is never attempted.

Every integer query parameter of the spec and every numeric ``Prefer`` field
is tried, on both engines.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harness import Sandbox
from sec_servers import serve_sandbox, token
from spec_conformance import assert_conforms, spec

NOT_NUMBERS = ["²", "¹¹", "²²²", "٣", "1" * 4_300, "1" * 4_301, "9" * 19, "1_0", " 1"]
PATH_VALUES = {"patient_id": "patient_123"}


def _header(text: str) -> bytes:
    """As a client would send it: Latin-1 when it can be (a server reads "²" then)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _integer_parameters() -> list[tuple[str, str]]:
    found = []
    for template, item in spec()["paths"].items():
        operation = item.get("get")
        if not operation or not template.startswith("/v1/"):
            continue
        path = template
        for name, value in PATH_VALUES.items():
            path = path.replace("{" + name + "}", value)
        path = path.replace("{", "x").replace("}", "")
        for param in [*item.get("parameters", []), *operation.get("parameters", [])]:
            if param["in"] == "query" and param.get("schema", {}).get("type") == "integer":
                found.append((path, param["name"]))
    return found


INTEGER_PARAMETERS = _integer_parameters()


def test_the_spec_has_integer_parameters_to_try() -> None:
    assert {name for _, name in INTEGER_PARAMETERS} >= {"page", "limit"}
    assert len(INTEGER_PARAMETERS) >= 8


def test_every_integer_parameter_refuses_what_is_not_a_short_ascii_number(
    sandbox: Sandbox,
) -> None:
    wrong = []
    for path, name in INTEGER_PARAMETERS:
        for value in NOT_NUMBERS:
            answer = sandbox.get(path, params={name: value})
            error = answer.json().get("error", {}) if answer.status_code == 400 else {}
            if error.get("code") != "INVALID_PARAMETER" or error["details"]["parameter"] != name:
                wrong.append(
                    f"{path}?{name}={value[:12]}: {answer.status_code} {answer.text[:120]}"
                )
            elif len(answer.content) > 1_000:
                wrong.append(f"{path}?{name}={value[:12]}: echoed {len(answer.content)} bytes")
    assert not wrong, "\n".join(wrong)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    """A real server: header bytes reach it as sent (the test client re-encodes them)."""
    with serve_sandbox() as base_url:
        yield base_url, token(base_url)


@pytest.mark.parametrize("field", ["code", "delay"])
def test_every_numeric_prefer_field_refuses_what_is_not_a_short_ascii_number(
    served: tuple[str, str], field: str
) -> None:
    base_url, bearer = served
    for value in NOT_NUMBERS[:-1]:  # (" 1" is "1": RFC 7240 allows spaces around "=")
        answer = httpx.get(
            f"{base_url}/v1/patients",
            headers={"Authorization": f"Bearer {bearer}", "Prefer": _header(f"{field}={value}")},
            timeout=30,
        )
        assert answer.status_code == 400, (field, value[:12], answer.text[:200])
        error = answer.json()["error"]
        assert error["code"] == "INVALID_PARAMETER" and error["details"]["parameter"] == "Prefer"
        assert len(answer.content) < 1_000
        assert_conforms(answer)


def test_plain_numbers_still_work(sandbox: Sandbox) -> None:
    assert sandbox.get("/v1/patients?page=2&limit=5").json()["pagination"]["page"] == 2
    answer = sandbox.get("/v1/patients", headers={"Prefer": "code=429, delay=1"})
    assert answer.status_code == 429 and answer.headers["preference-applied"] == "code=429, delay=1"
