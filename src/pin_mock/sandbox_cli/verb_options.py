"""The options every sandbox verb takes: where the sandbox is, and whose sandbox.

Imports only click (the ``pin-mock`` command loads every verb at start-up);
``connection.py`` turns these options into an httpx client when a verb runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from pin_mock.contract.sandbox_client import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

DEFAULT_BASE_URL = "http://127.0.0.1:8080"

F = TypeVar("F", bound=Callable[..., Any])


class SandboxUnreachable(click.ClickException):
    """No answer from the sandbox, or no token: one line, exit 2."""

    exit_code = 2


class Refused(click.ClickException):
    """The sandbox answered with an error: its reason, exit 1."""

    exit_code = 1


def connection_options(command: F) -> F:
    """``--base-url``, ``--client-id``, ``--client-secret``, ``--token`` (with env variables)."""
    options = [
        click.option(
            "--base-url",
            envvar="PIN_BASE_URL",
            default=DEFAULT_BASE_URL,
            show_default=True,
            help="The running sandbox (env PIN_BASE_URL).",
        ),
        click.option(
            "--client-id",
            envvar="PIN_CLIENT_ID",
            default=DEFAULT_CLIENT_ID,
            show_default=True,
            help="Whose sandbox (env PIN_CLIENT_ID).",
        ),
        click.option(
            "--client-secret",
            envvar="PIN_CLIENT_SECRET",
            default=DEFAULT_CLIENT_SECRET,
            help="The client's secret (env PIN_CLIENT_SECRET; default: the sandbox's).",
        ),
        click.option(
            "--token",
            envvar="PIN_TOKEN",
            default=None,
            help="Use this access token instead of client credentials (env PIN_TOKEN).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command
