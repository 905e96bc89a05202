"""The pin-mock command line."""

from __future__ import annotations

from click.testing import CliRunner

from pin_mock.cli import main


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "serve" in result.output and "contract" in result.output


def test_serve_refuses_several_workers_with_a_reason() -> None:
    result = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers must be 1" in result.output


def test_serve_reports_bad_environment_value() -> None:
    result = CliRunner().invoke(main, ["serve"], env={"PIN_MOCK_PORT": "eighty"})
    assert result.exit_code == 2
    assert "PIN_MOCK_PORT" in result.output


def test_serve_passes_webhook_flags_to_the_settings() -> None:
    result = CliRunner().invoke(main, ["serve", "--webhook-retry-factor", "-1"])
    assert result.exit_code == 2
    assert "retry delays and their factor cannot be negative" in result.output
