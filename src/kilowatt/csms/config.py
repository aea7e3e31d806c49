"""The CSMS's settings: one object, read once from environment variables and a TOML file.

Precedence: environment (``KILOWATT_<NAME>``) over the TOML file (``--config`` or
``KILOWATT_CONFIG``) over the defaults below. Errors name the setting.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["ConfigError", "Settings", "load_settings"]


class ConfigError(ValueError):
    """A setting is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Settings:
    # Stations: plain WebSocket listener (security profile 1).
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = 9000
    ocpp_path: str = "/ocpp"
    # TLS listener (profiles 2 and 3); off unless a port and certificates are given.
    tls_port: int | None = None
    tls_rsa_cert: str | None = None
    tls_rsa_key: str | None = None
    tls_ecdsa_cert: str | None = None
    tls_ecdsa_key: str | None = None
    tls_client_ca: str | None = None  # CA that issues station certificates (profile 3)
    # The CA that signs stations' CSRs (SignCertificate); without it they are Rejected.
    signing_ca_cert: str | None = None
    signing_ca_key: str | None = None
    # REST API and UI.
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_tokens: tuple[str, ...] = ()
    # Persistence.
    data_dir: str = "data"
    database_url: str | None = None  # default: SQLite under data_dir
    # Group commit: how long a write may wait for others to share its commit. Longer means
    # fewer commits (CPU, disk syncs) at a fleet's pace, and a later acknowledgement of a
    # TransactionEvent or MeterValues; heartbeats never wait for a commit.
    store_flush_interval: float = 0.02
    # Behaviour.
    auto_register: bool = False
    # A dead peer is dropped after ping_interval + ping_timeout + close_timeout at most: the
    # last is how long a failing connection waits for the peer's side of the closing handshake.
    ping_interval: float = 60.0
    ping_timeout: float = 30.0
    close_timeout: float = 5.0
    call_timeout: float = 30.0
    max_frame_size: int = 1 << 20
    heartbeat_interval: int = 300
    # I02: the running cost goes to 2.0.1 stations in a CostUpdated after each periodic meter
    # value (0), or every this many seconds during a transaction.
    cost_updated_interval: float = 0.0
    log_level: str = "INFO"

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{Path(self.data_dir).resolve() / 'kilowatt.db'}"

    @property
    def tls_enabled(self) -> bool:
        return self.tls_port is not None


def _convert(name: str, raw: Any, kind: Any) -> Any:
    text = str(raw)
    try:
        if kind in ("int", "int | None"):
            return int(raw) if raw not in ("", None) else None
        if kind in ("float", "float | None"):
            return float(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind == "tuple[str, ...]":
            items = raw if isinstance(raw, list) else text.split(",")
            return tuple(str(item).strip() for item in items if str(item).strip())
    except ValueError:
        raise ConfigError(f"{name}: cannot read {text!r} as {kind}") from None
    return None if raw == "" and "None" in kind else text


def load_settings(
    config_file: str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the settings.

    Raises:
        ConfigError: an unknown key in the file, a value of the wrong type, or TLS half set up.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or env.get("KILOWATT_CONFIG")
    if path:
        try:
            document = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        known = {f.name for f in fields(Settings)}
        unknown = set(document) - known
        if unknown:
            raise ConfigError(f"config file {path}: unknown settings {sorted(unknown)}")
        values.update(document)
    for f in fields(Settings):
        key = f"KILOWATT_{f.name.upper()}"
        if key in env:
            values[f.name] = env[key]
    converted = {
        name: _convert(name, raw, {f.name: f.type for f in fields(Settings)}[name])
        for name, raw in values.items()
    }
    settings = dataclasses.replace(Settings(), **converted)
    if settings.tls_enabled and not (
        (settings.tls_rsa_cert and settings.tls_rsa_key)
        or (settings.tls_ecdsa_cert and settings.tls_ecdsa_key)
    ):
        raise ConfigError("tls_port: needs a certificate and key (tls_rsa_* or tls_ecdsa_*)")
    return settings
