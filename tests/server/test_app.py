"""Start-up: the spec, the fixtures and the settings fail fast and say why."""

from __future__ import annotations

from pathlib import Path

import pytest

from pin_mock._bundled import spec_path
from pin_mock.server import Settings, create_app
from pin_mock.server.errors import ConfigError


def test_openapi_3_1_spec_is_refused_at_start_up(tmp_path: Path) -> None:
    spec = tmp_path / "pin.yaml"
    spec.write_text(spec_path().read_text().replace("openapi: 3.0.3", "openapi: 3.1.0", 1))
    with pytest.raises(ConfigError, match="3.0"):
        create_app(Settings(spec=spec))


def test_unparsable_spec_names_its_path(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: [unclosed")
    with pytest.raises(ConfigError, match="broken.yaml"):
        create_app(Settings(spec=spec))


def test_operation_without_handler_stops_start_up(tmp_path: Path) -> None:
    spec = tmp_path / "pin.yaml"
    spec.write_text(
        spec_path().read_text().replace("operationId: listPatients", "operationId: listMoons", 1)
    )
    with pytest.raises(ConfigError, match="listMoons"):
        create_app(Settings(spec=spec))


def test_bad_clients_file_stops_start_up(tmp_path: Path) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text(
        "clients:\n  - client_id: x\n    client_secret: y\n    tier: gold\n    scopes: []\n"
    )
    with pytest.raises(ConfigError, match="unknown tier gold"):
        create_app(Settings(clients=clients))


def test_settings_read_pin_mock_environment_variables() -> None:
    settings = Settings.from_env(
        {"PIN_MOCK_PORT": "9090", "PIN_MOCK_TIER_LIMITS": "standard=5,professional=6,enterprise=7"}
    )
    assert settings.port == 9090
    assert settings.tier_limits == {"standard": 5, "professional": 6, "enterprise": 7}


def test_flags_override_environment() -> None:
    assert Settings.from_env({"PIN_MOCK_SEED": "1"}, seed=2).seed == 2


def test_custom_clients_file_is_used(sandbox_factory, tmp_path: Path) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text(
        "clients:\n  - client_id: team-a\n    client_secret: s3cret\n    tier: enterprise\n"
        "    scopes: [patients:read]\n"
    )
    sandbox = sandbox_factory(clients=clients)
    response = sandbox.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "team-a", "client_secret": "s3cret"},
    )
    assert response.status_code == 200 and response.json()["scope"] == "patients:read"
