"""One frozen settings object, built from CLI flags and ``PIN_MOCK_*`` variables.

The settings are validated once, here, and passed explicitly to ``create_app``;
nothing else in the package reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pin_mock._bundled import fixtures_dir, spec_path
from pin_mock.server.errors import ConfigError

#: Requests per window for each tier, from the PIN documentation (per hour).
DEFAULT_TIER_LIMITS: Mapping[str, int] = {
    "standard": 1_000,
    "professional": 10_000,
    "enterprise": 100_000,
}


@dataclass(frozen=True)
class Settings:
    """Everything that configures one sandbox instance."""

    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = 42
    patients: int = 150
    spec: Path = field(default_factory=spec_path)
    fixtures: Path = field(default_factory=fixtures_dir)
    clients: Path | None = None
    token_ttl: int = 3600
    signing_key: str | None = None
    issuer: str = "pin-mock"
    rate_limit_window: int = 3600
    tier_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TIER_LIMITS))
    report_delay: float = 2.0
    webhook_timeout: float = 10.0
    webhook_retry_schedule: tuple[float, ...] = (0.0, 5.0, 300.0, 1800.0, 7200.0)
    # Multiplies every retry delay: 0.001 turns the 2-hour retry into 7.2 seconds.
    webhook_retry_factor: float = 1.0
    # A local sandbox must reach receivers on localhost; a hosted one sets this False.
    webhook_allow_private_targets: bool = True
    max_prefer_delay_ms: int = 10_000
    workers: int = 1
    log_level: str = "info"

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port must be between 1 and 65535, got {self.port}")
        if self.patients < 1:
            raise ConfigError(f"patients must be at least 1, got {self.patients}")
        if self.token_ttl < 1:
            raise ConfigError(f"token_ttl must be at least 1 second, got {self.token_ttl}")
        if self.rate_limit_window < 1:
            raise ConfigError("rate_limit_window must be at least 1 second")
        if self.report_delay < 0:
            raise ConfigError("report_delay cannot be negative")
        if self.webhook_timeout <= 0:
            raise ConfigError("webhook_timeout must be positive")
        if self.webhook_retry_factor < 0 or any(d < 0 for d in self.webhook_retry_schedule):
            raise ConfigError("webhook retry delays and their factor cannot be negative")
        if self.workers != 1:
            # State (tenants, rate-limit counters, tokens' signing key) lives in
            # this process; several workers would each see a different sandbox.
            raise ConfigError(
                "--workers must be 1: sandbox state, rate-limit counters and the "
                "token signing key live in one process and are not shared"
            )
        missing = set(DEFAULT_TIER_LIMITS) - set(self.tier_limits)
        if missing:
            raise ConfigError(f"tier_limits lacks {sorted(missing)}")
        if not self.spec.is_file():
            raise ConfigError(f"OpenAPI spec not found: {self.spec}")

    @property
    def clients_file(self) -> Path:
        """The sandbox clients file: ``--clients`` or ``fixtures/clients.yaml``."""
        return self.clients or self.fixtures / "clients.yaml"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``PIN_MOCK_<FIELD>`` variables, then ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"PIN_MOCK_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _parse(f.name, raw, cls.__dataclass_fields__[f.name].type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(name: str, raw: str, kind: Any) -> Any:
    """Turn one environment string into the field's type, or fail naming it."""
    kind = str(kind)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if "Path" in kind:
            return Path(raw)
        if "tuple" in kind:
            return tuple(float(x) for x in raw.split(",") if x.strip())
        if "Mapping" in kind:
            pairs = (item.split("=", 1) for item in raw.split(",") if item.strip())
            return {k.strip(): int(v) for k, v in pairs}
    except ValueError as exc:
        raise ConfigError(f"PIN_MOCK_{name.upper()}={raw!r} is not valid: {exc}") from exc
    return raw
