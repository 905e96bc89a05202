"""One frozen settings object, built from CLI flags and ``PIN_MOCK_*`` variables.

The settings are validated once, here, and passed explicitly to ``create_app``;
nothing else in the package reads the environment.
"""

from __future__ import annotations

import ipaddress
import os
import re
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
    # POST /oauth/token, per window (domain/token_throttle.py): failed client authentications
    # per (client id, address), per client id from all addresses and per address;
    # malformed requests per address; tokens issued per client.
    token_throttle_window: int = 60
    token_failures_per_client_address: int = 10
    token_failures_per_client: int = 1_000
    token_failures_per_address: int = 100
    token_malformed_per_address: int = 600
    token_grants_per_client: int = 60
    # What one tenant (client) may hold (domain/quotas.py); a create past it is 409 QUOTA_EXCEEDED.
    quota_patients: int = 10_000
    quota_entries: int = 100_000
    quota_reports: int = 1_000
    quota_webhooks: int = 100
    quota_pending_deliveries: int = 10_000
    report_delay: float = 2.0
    # Redis only: a report or delivery job held this long (seconds) by a worker that
    # stopped answering is taken over by another (state/redis/queue.py).
    job_claim_timeout: float = 30.0
    webhook_timeout: float = 10.0
    webhook_retry_schedule: tuple[float, ...] = (0.0, 5.0, 300.0, 1800.0, 7200.0)
    # Multiplies every retry delay: 0.001 turns the 2-hour retry into 7.2 seconds.
    webhook_retry_factor: float = 1.0
    # Where deliveries may go (webhooks/targets.py): "local" (loopback and private
    # addresses: a fuzzing run never reaches the internet), "public" (those and
    # the internet) or "hosted" (public addresses only: no SSRF into the host's network).
    webhook_targets: str = "local"
    max_prefer_delay_ms: int = 10_000
    # What one request may carry (pipeline/request_bounds.py): 413 / 431 past these.
    max_body_bytes: int = 1_048_576
    max_header_fields: int = 100
    max_header_bytes: int = 16_384
    # A form body (application/x-www-form-urlencoded: the token request) is small.
    max_form_bytes: int = 4_096
    workers: int = 1
    # Where what clients change lives (state/engine.py): "memory://" (this process)
    # or "redis://HOST:PORT/DB" (shared by workers and replicas, kept across restarts).
    state: str = "memory://"
    # Redis only: a client's sandbox idle this long (seconds) is deleted.
    sandbox_ttl: int = 7 * 86_400
    # Signing keys: a new one every key_rotation seconds (0: never); a retired key
    # still verifies for key_grace seconds (0: the token lifetime).
    key_rotation: int = 0
    key_grace: int = 0
    log_level: str = "info"
    # Connections (transport/uvicorn_config.py): what a careful API front end would enforce.
    log_format: str = "text"  # or "json": one object per line, for log shippers
    # X-Forwarded-For/-Proto are believed only from these peers ("" = nobody).
    forwarded_allow_ips: str = ""
    # Web pages that may call the sandbox (pipeline/cors.py): "local" (any port of
    # localhost/127.0.0.1/[::1]), "*", exact origins, comma-separated; "none" = no CORS.
    cors_origins: str = "local"
    # The Host names the sandbox answers to (pipeline/allowed_hosts.py; others: 400), against
    # DNS rebinding: "*" (any), "local" (localhost, 127.0.0.1, [::1]), names (".x.y":
    # x.y and its subdomains), comma-separated; "auto" is "local" when ``host`` is a
    # loopback address and "*" otherwise (what ``pin-mock serve`` uses by default).
    allowed_hosts: str = "*"
    # Connections (transport/connection_limits.py): 503 past these caps; an answer its reader
    # stopped reading for send_timeout seconds closes the connection.
    max_connections: int = 1_000
    max_connections_per_address: int = 100
    send_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    header_timeout: float = 10.0  # the whole request head, from its first byte
    body_timeout: float = 30.0  # the whole request body, from the end of the head
    graceful_shutdown_timeout: float = 5.0
    # Observability (observability/): Prometheus metrics at /metrics, and OpenTelemetry
    # traces exported where the OTEL_* variables say (the ``traces`` extra). /healthz and
    # /readyz are always there.
    metrics: bool = False
    traces: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port must be between 1 and 65535, got {self.port}")
        if min(self.max_body_bytes, self.max_header_fields, self.max_header_bytes) < 1:
            raise ConfigError(
                "max_body_bytes, max_header_fields and max_header_bytes must be positive"
            )
        if self.max_form_bytes < 256:
            raise ConfigError(f"max_form_bytes must be at least 256, got {self.max_form_bytes}")
        if self.patients < 1:
            raise ConfigError(f"patients must be at least 1, got {self.patients}")
        if self.token_ttl < 1:
            raise ConfigError(f"token_ttl must be at least 1 second, got {self.token_ttl}")
        if self.rate_limit_window < 1:
            raise ConfigError("rate_limit_window must be at least 1 second")
        if self.token_throttle_window < 1:
            raise ConfigError("token_throttle_window must be at least 1 second")
        for name in (
            "token_failures_per_client_address",
            "token_failures_per_client",
            "token_failures_per_address",
            "token_malformed_per_address",
            "token_grants_per_client",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("patients", "entries", "reports", "webhooks", "pending_deliveries"):
            if getattr(self, f"quota_{name}") < 0:
                raise ConfigError(f"quota_{name} cannot be negative")
        if self.quota_entries > MAX_QUOTA_ENTRIES:
            # The spec bounds the arrays that grow with stored entries (maxItems).
            raise ConfigError(f"quota_entries can be at most {MAX_QUOTA_ENTRIES:,}")
        _check_signing_key(self.signing_key)
        if self.report_delay < 0:
            raise ConfigError("report_delay cannot be negative")
        if self.job_claim_timeout <= 0:
            raise ConfigError("job_claim_timeout must be positive")
        if self.webhook_timeout <= 0:
            raise ConfigError("webhook_timeout must be positive")
        if self.webhook_retry_factor < 0 or any(d < 0 for d in self.webhook_retry_schedule):
            raise ConfigError("webhook retry delays and their factor cannot be negative")
        if self.webhook_targets not in ("local", "public", "hosted"):
            raise ConfigError(
                f"webhook_targets must be local, public or hosted, got {self.webhook_targets!r}"
            )
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")
        if self.workers > 1 and not self.state.startswith(("redis://", "rediss://", "unix://")):
            # In memory, state (tenants, rate-limit counters, tokens' signing key)
            # lives in one process; several workers would each be a different sandbox.
            raise ConfigError(
                f"--workers {self.workers} needs --state redis://HOST:PORT/DB: with "
                "memory:// the sandboxes, rate-limit counters and signing key live in "
                "one process and are not shared"
            )
        if self.sandbox_ttl < 60:
            raise ConfigError(f"sandbox_ttl must be at least 60 seconds, got {self.sandbox_ttl}")
        if self.key_rotation < 0 or self.key_grace < 0:
            raise ConfigError("key_rotation and key_grace cannot be negative")
        missing = set(DEFAULT_TIER_LIMITS) - set(self.tier_limits)
        if missing:
            raise ConfigError(f"tier_limits lacks {sorted(missing)}")
        _check_connection_settings(self)
        if not self.spec.is_file():
            raise ConfigError(f"OpenAPI spec not found: {self.spec}")

    @property
    def clients_file(self) -> Path:
        """The sandbox clients file: ``--clients`` or ``fixtures/clients.yaml``."""
        return self.clients or self.fixtures / "clients.yaml"

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        defaults: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Build settings from ``defaults``, then ``PIN_MOCK_<FIELD>`` variables, then
        ``overrides`` (each wins over the one before)."""
        environ = os.environ if environ is None else environ
        if "PIN_MOCK_WEBHOOK_ALLOW_PRIVATE_TARGETS" in environ:
            raise ConfigError(
                "PIN_MOCK_WEBHOOK_ALLOW_PRIVATE_TARGETS was replaced by "
                "PIN_MOCK_WEBHOOK_TARGETS=local|public|hosted (true was public, false hosted)"
            )
        values: dict[str, Any] = dict(defaults or {})
        for f in fields(cls):
            raw = environ.get(f"PIN_MOCK_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _parse(f.name, raw, cls.__dataclass_fields__[f.name].type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


#: The most entries one client may store (``quota_entries``): the spec's ``maxItems``
#: of the arrays that grow with stored entries leave room for this plus the seeded data.
MAX_QUOTA_ENTRIES = 1_000_000
#: The shortest ``signing_key``, bytes: HS256 wants a key as long as its hash (RFC 7518 3.2).
MIN_SIGNING_KEY_BYTES = 32


def _check_signing_key(key: str | None) -> None:
    """An empty or short key would sign tokens anyone can forge (or none at all)."""
    if key is not None and len(key.encode("utf-8")) < MIN_SIGNING_KEY_BYTES:
        raise ConfigError(
            f"signing_key (PIN_MOCK_SIGNING_KEY) must be at least {MIN_SIGNING_KEY_BYTES} bytes "
            f"long, got {len(key.encode('utf-8'))}; leave it unset for a random key"
        )


#: An origin as browsers send it: scheme, host, optional port; no path.
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://(\[[0-9a-f:.]+\]|[^/\s:\[\]]+)(:\d{1,5})?", re.I)


def _check_connection_settings(settings: Settings) -> None:
    """Refuse connection settings a server cannot honour, naming the setting."""
    if settings.log_format not in {"text", "json"}:
        raise ConfigError(f"log_format must be 'text' or 'json', got {settings.log_format!r}")
    for name in ("keep_alive_timeout", "header_timeout", "body_timeout", "send_timeout"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name} must be positive")
    if settings.graceful_shutdown_timeout < 0:
        raise ConfigError("graceful_shutdown_timeout cannot be negative")
    for entry in filter(None, (e.strip() for e in settings.forwarded_allow_ips.split(","))):
        try:
            if entry != "*":
                ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ConfigError(f"forwarded_allow_ips: {entry!r} is not an address") from exc
    if min(settings.max_connections, settings.max_connections_per_address) < 1:
        raise ConfigError("max_connections and max_connections_per_address must be positive")
    _check_allowed_hosts(settings.allowed_hosts)
    for entry in filter(None, (e.strip() for e in settings.cors_origins.split(","))):
        if entry not in ("*", "local", "none") and not _ORIGIN.fullmatch(entry.rstrip("/")):
            raise ConfigError(
                f"cors_origins: {entry!r} is not an origin (scheme://host[:port]), *, local or none"
            )


#: An ``allowed_hosts`` entry: a DNS name or IPv4 address (a leading dot: and its
#: subdomains) or a bracketed IPv6 address; no port (any port is allowed).
_HOST_ENTRY = re.compile(
    r"\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\]", re.I
)


def _check_allowed_hosts(value: str) -> None:
    entries = [e.strip() for e in value.split(",") if e.strip()]
    if not entries:
        raise ConfigError("allowed_hosts is empty: give * (any), auto, local or host names")
    for entry in entries:
        if entry not in ("*", "auto", "local") and not _HOST_ENTRY.fullmatch(entry):
            raise ConfigError(
                f"allowed_hosts: {entry!r} is not a host name (no scheme or port), *, auto or local"
            )


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
