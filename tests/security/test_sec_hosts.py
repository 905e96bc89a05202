"""The ``Host`` header: a local sandbox answers only to local names; no Host costs a render.

OWASP API Security Top 10 2023:
- API8:2023 Security Misconfiguration: before issue 18 (finding 12) any
  ``Host`` was accepted, so a web page that rebinds its own name to 127.0.0.1
  could drive a developer's local sandbox with the public credentials (and,
  through webhooks under ``--webhook-targets local``, probe the LAN). Now
  ``--allowed-hosts`` refuses other names with 400 in the envelope, before any
  other layer runs; ``pin-mock serve`` bound to loopback allows only
  ``localhost``, ``127.0.0.1`` and ``[::1]`` (any port) unless told otherwise.
- API4:2023 Unrestricted Resource Consumption: a rotating ``Host`` missed the
  served spec's cache of 8 renderings, and each miss cost ~13 ms of
  ``json.dumps`` (458 -> 76 requests/s on ``/openapi.json``, unauthenticated;
  finding 6). Now a miss copies a rendering made once.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

import pin_mock.server.routes.spec_files as spec_files
from pin_mock.server.app import create_app
from pin_mock.server.errors import ConfigError
from pin_mock.server.pipeline.allowed_hosts import LOCAL_HOSTS, allowed_names
from pin_mock.server.settings import Settings
from sec_servers import CliServer, address, read_until_closed, serve_sandbox, token


@pytest.fixture(scope="module")
def local() -> TestClient:
    return TestClient(create_app(Settings(allowed_hosts="local")), raise_server_exceptions=False)


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:5173", "127.0.0.1:8080", "[::1]:9", "LOCALHOST."]
)
def test_local_names_are_answered(local: TestClient, host: str) -> None:
    assert local.get("/openapi.yaml", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:8080",
        "127.0.0.1.nip.io",
        "localhost.attacker.example",
        "[::2]",
    ],
)
def test_other_names_are_refused_with_the_envelope(local: TestClient, host: str) -> None:
    answer = local.get("/v1/patients", headers={"host": host})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "INVALID_REQUEST" and error["details"]["header"] == "Host"
    assert error["details"]["allowed_hosts"] == list(LOCAL_HOSTS)
    assert "x-request-id" in answer.headers
    assert "x-ratelimit-remaining" not in answer.headers  # refused before any budget


def test_the_token_endpoint_refuses_in_its_own_shape(local: TestClient) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-standard",
        "client_secret": "sandbox-standard-secret",
    }
    answer = local.post("/oauth/token", data=form, headers={"host": "attacker.example"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "attacker.example" in answer.json()["error_description"]


def test_names_and_subdomains_can_be_allowed() -> None:
    client = TestClient(create_app(Settings(allowed_hosts=".example.org, pin.test")))
    for host in ("example.org", "api.example.org:443", "pin.test"):
        assert client.get("/openapi.yaml", headers={"host": host}).status_code == 200
    for host in ("badexample.org", "localhost", "pin.test.attacker"):
        assert client.get("/openapi.yaml", headers={"host": host}).status_code == 400


def test_auto_is_local_on_loopback_and_any_elsewhere() -> None:
    for bind in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert allowed_names("auto", bind) == LOCAL_HOSTS
    for bind in ("0.0.0.0", "::", "192.168.1.10"):
        assert allowed_names("auto", bind) is None
    assert allowed_names("*", "127.0.0.1") is None


@pytest.mark.parametrize("value", ["http://localhost", "localhost:8080", "", "a b"])
def test_settings_refuse_what_is_not_a_host_name(value: str) -> None:
    with pytest.raises(ConfigError, match="allowed_hosts"):
        Settings(allowed_hosts=value)


def test_a_request_without_a_host_is_refused_when_a_list_is_in_force() -> None:
    with serve_sandbox(allowed_hosts="local") as base_url:
        with socket.create_connection(address(base_url), timeout=20) as sock:
            sock.sendall(b"GET /openapi.yaml HTTP/1.0\r\n\r\n")
            assert read_until_closed(sock).startswith(b"HTTP/1.1 400 ")


def test_pin_mock_serve_on_loopback_answers_only_to_local_names() -> None:
    server = CliServer()
    try:
        server.wait_ready()
        port = server.port
        bearer = token(server.base_url)
        auth = {"Authorization": f"Bearer {bearer}"}
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
            answer = httpx.get(f"{server.base_url}/v1/patients", headers={**auth, "Host": host})
            assert answer.status_code == 200, host
        rebound = httpx.get(
            f"{server.base_url}/v1/patients", headers={**auth, "Host": f"attacker.example:{port}"}
        )
        assert rebound.status_code == 400
        assert rebound.json()["error"]["details"]["value"] == f"attacker.example:{port}"
    finally:
        server.stop()


def test_a_rotating_host_costs_no_rendering_of_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(create_app(Settings()))
    renders: list[Any] = []
    dumps = spec_files.json.dumps

    def counting(value: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, dict):
            renders.append(value)
        return dumps(value, *args, **kwargs)

    monkeypatch.setattr(spec_files.json, "dumps", counting)
    etags = set()
    for i in range(40):
        host = f"h{i}.example:{8000 + i}"
        answer = client.get("/openapi.json", headers={"host": host})
        assert answer.status_code == 200
        document = json.loads(answer.content)
        assert document["servers"][0]["url"] == f"http://{host}"
        assert (
            document["servers"][1:]
            == json.loads(client.get("/openapi.json").content)["servers"][1:]
        )
        etags.add(answer.headers["etag"])
    assert not renders, f"{len(renders)} renderings of the whole document"
    assert len(etags) == 40
