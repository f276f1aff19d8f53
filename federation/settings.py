"""Instance settings: a frozen dataclass built from the environment and an optional TOML file.

Nothing is read at import time; `Settings.from_env()` is called by whoever builds an app.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from federation.errors import ValidationError

ENV_PREFIX = "OURDESIGN_"
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")
REGISTRATION_MODES = ("open", "approval", "invite", "closed")
SMTP_SECURITY = ("starttls", "tls", "none")
COOP_ENTITY_KINDS = ("cooperative", "nonprofit", "individual", "company")
SQLITE_SYNCHRONOUS = ("full", "normal")
FILE_STORES = ("local", "s3")


@dataclass(frozen=True)
class Settings:
    domain: str = "localhost:8000"
    scheme: str = "https"
    data_dir: Path = Path("data")
    database_url: str = ""
    allow_private_addresses: bool = False
    instance_name: str = "Our Design"
    # `serve` and `worker` log JSON lines (for journald, Loki and the like) or plain text.
    log_format: str = "json"
    log_level: str = "info"
    # Where this instance's source code is published (the AGPL asks that users can get it).
    source_url: str = ""
    max_body_bytes: int = 1_000_000
    # Streaming connections without an access token, per client address (0: no limit).
    max_anonymous_streams_per_address: int = 8
    # Timeline answers are cached until a write in this process changes what they show, and
    # at most this long (for writes by other processes); 0 turns the cache off.
    answer_cache_seconds: float = 2.0
    signature_window_seconds: int = 3600
    key_refetch_interval_seconds: int = 60
    # A keyId whose fetch failed (or any key of a host that did not answer) is refused
    # without fetching again for this long; 0 fetches every time.
    key_failure_cache_seconds: int = 300
    delivery_concurrency: int = 32
    delivery_per_host: int = 4
    delivery_max_attempts: int = 16
    host_unavailable_after: int = 5
    http_timeout_seconds: float = 10.0
    # Queue workers hold what they claim for this long, renewed while they work on it; a
    # stopping worker lets attempts already on the wire finish for stop_grace_seconds.
    queue_lease_seconds: float = 300.0
    stop_grace_seconds: float = 10.0
    max_fetch_bytes: int = 2_000_000
    # Database limits (docs/OPERATIONS.md, "Outages"): how long to wait for a connection (a
    # PostgreSQL connect, a free pooled connection, SQLite's lock held by another process),
    # and the deadline of one statement, past which it is cancelled and the request answered
    # 503. Statements of migrations, backups and moves are not bounded.
    database_connect_timeout_seconds: float = 10.0
    database_statement_timeout_seconds: float = 10.0
    # /readyz answers 503 when the disk of the database or of the files has less free space.
    min_free_disk_bytes: int = 104_857_600  # 100 MiB
    # SQLite: "full" syncs the write-ahead log at every commit, so an answered 202 survives a
    # power loss; "normal" is faster and can lose the last commits then (docs/OPERATIONS.md).
    sqlite_synchronous: str = "full"
    # Designs: the licence new designs get when none is chosen, the LicenseRef-* identifiers
    # this instance accepts ({"LicenseRef-X": {"title": ..., "url": ...}}, TOML only),
    # and upload limits.
    default_license: str = "PPL"
    license_refs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    max_file_bytes: int = 100_000_000
    max_version_bytes: int = 500_000_000
    # What a member may store by uploading, in all (admins set it per account with
    # `ourdesign user quota`); 0: no quota.
    default_upload_quota_bytes: int = 10_000_000_000
    # Untrusted files (3D models, images) are read in child processes, each limited to this
    # much address space, processor time and wall-clock time, at most this many at once.
    parser_memory_mb: int = 2048
    parser_cpu_seconds: int = 30
    parser_timeout_seconds: float = 60.0
    parser_processes: int = 2
    # Accounts: who may join (open, approval, invite or closed). Mail is optional: with no
    # smtp_host nobody is asked to confirm an address and passwords are reset by an admin.
    registration_mode: str = "approval"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"
    mail_from: str = ""
    # The cooperative that runs the instance, presented as the Organization actor @coop_username.
    coop_username: str = "coop"
    coop_name: str = ""
    coop_description: str = ""
    coop_entity_kind: str = "cooperative"
    coop_contact_email: str = ""
    coop_rules: tuple[str, ...] = ()
    coop_boosts_member_designs: bool = True
    # Where stored files live: the data directory ("local"), or an S3-compatible bucket,
    # with the data directory as a cache of it (objects.object_store).
    file_store: str = "local"
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    # Downloads answer with a redirect to a presigned URL of the bucket, valid this long.
    s3_presigned_downloads: bool = False
    s3_presign_seconds: int = 300
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scheme not in ("https", "http"):
            raise ValidationError(f"OURDESIGN_SCHEME must be https or http, not {self.scheme!r}")
        if not self.domain or "/" in self.domain:
            raise ValidationError(
                f"OURDESIGN_DOMAIN must be a host name with an optional port, not {self.domain!r}"
            )
        _check_choice("log_format", self.log_format, LOG_FORMATS)
        _check_choice("log_level", self.log_level.lower(), LOG_LEVELS)
        _check_choice("registration_mode", self.registration_mode, REGISTRATION_MODES)
        _check_choice("smtp_security", self.smtp_security, SMTP_SECURITY)
        _check_choice("coop_entity_kind", self.coop_entity_kind, COOP_ENTITY_KINDS)
        _check_choice("sqlite_synchronous", self.sqlite_synchronous, SQLITE_SYNCHRONOUS)
        _check_choice("file_store", self.file_store, FILE_STORES)
        if self.file_store == "s3" and not self.s3_bucket:
            raise ValidationError(
                "OURDESIGN_FILE_STORE=s3 needs OURDESIGN_S3_BUCKET (and OURDESIGN_S3_ENDPOINT_URL"
                " for a service other than Amazon's)"
            )
        for name in ("database_connect_timeout_seconds", "database_statement_timeout_seconds"):
            if not getattr(self, name) > 0:
                raise ValidationError(f"{ENV_PREFIX}{name.upper()} must be more than 0 seconds")

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def host_name(self) -> str:
        """The domain without its port, as mail addresses and Message-IDs need it."""
        return self.domain.partition(":")[0]

    @property
    def sender_address(self) -> str:
        return self.mail_from or f"noreply@{self.host_name}"

    @property
    def coop_display_name(self) -> str:
        return self.coop_name or self.instance_name

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def host(self) -> str:
        """The domain as it appears in URLs and handles (host[:port])."""
        return self.domain

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ourdesign.sqlite3').resolve()}"

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, config_file: Path | None = None
    ) -> Settings:
        """Settings from a TOML file (given, or named by OURDESIGN_CONFIG), then the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        path = config_file or (
            Path(env[ENV_PREFIX + "CONFIG"]) if ENV_PREFIX + "CONFIG" in env else None
        )
        if path is not None:
            values.update(_read_toml(path))
        for f in fields(cls):
            key = ENV_PREFIX + f.name.upper()
            if key in env:
                values[f.name] = env[key]
        return cls(**{name: _coerce(name, value) for name, value in values.items()})


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValidationError(
            f"{ENV_PREFIX}{name.upper()} must be one of {', '.join(choices)}, not {value!r}"
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(f"cannot read config file {path}: {exc}") from exc
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(f"unknown settings in {path}: {', '.join(unknown)}")
    return data


_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    kind = _FIELD_TYPES.get(name)
    if name not in _FIELD_TYPES:
        raise ValidationError(f"unknown setting {name!r}")
    if not isinstance(value, str):
        if kind == "Path":
            return Path(value)
        return tuple(value) if isinstance(value, list) else value
    if kind == "tuple[str, ...]":
        # From the environment, one rule per line.
        return tuple(line.strip() for line in value.splitlines() if line.strip())
    try:
        if kind == "bool":
            return _parse_bool(name, value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "Path":
            return Path(value)
    except ValueError as exc:
        raise ValidationError(
            f"{ENV_PREFIX}{name.upper()}: expected {kind}, got {value!r}"
        ) from exc
    return value


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{name}: not a boolean")
