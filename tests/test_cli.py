"""The pin-mock command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pin_mock.cli import SERVER_MODULES, main, missing_server_modules

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "serve" in result.output and "contract" in result.output


def test_serve_refuses_several_workers_with_a_reason() -> None:
    result = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers 2 needs --state redis://" in result.output


def test_serve_reports_bad_environment_value() -> None:
    result = CliRunner().invoke(main, ["serve"], env={"PIN_MOCK_PORT": "eighty"})
    assert result.exit_code == 2
    assert "PIN_MOCK_PORT" in result.output


def test_serve_passes_webhook_flags_to_the_settings() -> None:
    result = CliRunner().invoke(main, ["serve", "--webhook-retry-factor", "-1"])
    assert result.exit_code == 2
    assert "retry delays and their factor cannot be negative" in result.output


# A kit-only install (`pip install pin-mock`, no `server` extra) ---------------------------


def _run_python(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_cli_loads_nothing_of_the_server() -> None:
    script = (
        "import sys\n"
        "import pin_mock.cli as cli\n"
        "roots = set(cli.SERVER_MODULES) | {'pin_mock.server'}\n"
        "print(sorted(m for m in sys.modules if m in roots or m.startswith('pin_mock.server.')"
        " or m.partition('.')[0] in roots))\n"
    )
    result = _run_python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_server_modules_are_the_server_extra() -> None:
    """``SERVER_MODULES`` names an import for every library of the ``server`` extra."""
    text = (ROOT / "pyproject.toml").read_text()
    extra = text.split("\nserver = [", 1)[1].split("]\n", 1)[0]
    distributions = {
        re.split(r"[\[<>=!~ ]", line.strip().strip('",'))[0].lower()
        for line in extra.splitlines()
        if line.strip().startswith('"')
    }
    import_names = {"pyjwt": "jwt", "fpdf2": "fpdf", "prometheus-client": "prometheus_client"}
    assert {import_names.get(d, d) for d in distributions} == set(SERVER_MODULES)


def test_serve_without_the_server_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "connexion", None)  # as if never installed
    monkeypatch.setitem(sys.modules, "faker", None)
    assert missing_server_modules() == ["connexion", "faker"]
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "missing: connexion, faker" in result.output
    assert "pip install 'pin-mock[server]'" in result.output
    assert "Traceback" not in result.output


def test_kit_only_install_runs_contract_and_refuses_serve_cleanly() -> None:
    """Every server library hidden: ``contract --help`` works, ``serve`` explains itself."""
    script = (
        "import sys\n"
        "from pin_mock.cli import SERVER_MODULES\n"
        "for name in SERVER_MODULES:\n"
        "    sys.modules[name] = None\n"
        "from pin_mock.cli import main\n"
        "for args in (['contract', '--help'], ['serve']):\n"
        "    try:\n"
        "        main(args, prog_name='pin-mock')\n"
        "    except SystemExit as exc:\n"
        "        print('exit', exc.code, flush=True)\n"
    )
    result = _run_python(script)
    assert result.returncode == 0, result.stderr
    assert "--base-url" in result.stdout  # the contract command's help
    exits = [line for line in result.stdout.splitlines() if re.fullmatch(r"exit \d+", line)]
    assert exits == ["exit 0", "exit 2"]
    assert "pip install 'pin-mock[server]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_forwarded_allow_ips_entry_that_is_not_an_address() -> None:
    result = CliRunner().invoke(main, ["serve", "--forwarded-allow-ips", "127.0.0.1,proxy"])
    assert result.exit_code == 2
    assert "forwarded_allow_ips: 'proxy' is not an address" in result.output


def test_serve_refuses_non_positive_timeouts() -> None:
    result = CliRunner().invoke(main, ["serve", "--body-timeout", "0"])
    assert result.exit_code == 2
    assert "body_timeout must be positive" in result.output
