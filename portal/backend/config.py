"""All configuration, read once from environment variables with embedded defaults.

Every setting is validated here; a bad value raises `ConfigError` whose message is one plain
sentence naming the variable, so start-up can print it and stop without a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

IDLE_TIMEOUT_RANGE = (15, 30)
KEY_PROVIDERS = ("local", "aws-kms")
STORAGE_BACKENDS = ("local", "s3")
EMAIL_CHANNELS = ("outbox", "smtp", "ses")
SMS_CHANNELS = ("outbox", "twilio")
LOG_FORMATS = ("human", "json")
MAX_WORKERS = 32


class ConfigError(Exception):
    """Configuration that the portal cannot start with; the message is one plain sentence."""


# How long the retention job keeps each kind of short-lived row: (variable, default, bounds).
# The lower bounds protect what the portal still needs (see docs/compliance/retention.md).
RETENTION_SETTINGS = {
    "ended_sessions": ("PORTAL_RETAIN_SESSIONS_DAYS", 90, (30, 3650)),
    "sign_in_attempts": ("PORTAL_RETAIN_SIGN_IN_ATTEMPTS_DAYS", 30, (1, 3650)),
    "account_tokens": ("PORTAL_RETAIN_ACCOUNT_TOKENS_DAYS", 30, (1, 3650)),
    "notifications": ("PORTAL_RETAIN_NOTIFICATIONS_DAYS", 180, (90, 3650)),
    "slot_holds": ("PORTAL_RETAIN_SLOT_HOLDS_DAYS", 120, (91, 3650)),
    "waitlist_entries": ("PORTAL_RETAIN_WAITLIST_DAYS", 120, (30, 3650)),
    "profile_changes": ("PORTAL_RETAIN_PROFILE_CHANGES_DAYS", 2192, (2192, 36500)),
}


@dataclass(frozen=True)
class RetentionDays:
    """Days each kind of short-lived row is kept after it stopped mattering."""

    ended_sessions: int = 90
    sign_in_attempts: int = 30
    account_tokens: int = 30
    notifications: int = 180
    slot_holds: int = 120
    waitlist_entries: int = 120
    profile_changes: int = 2192


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    public_url: str
    allowed_origins: tuple[str, ...]
    key_provider: str
    kms_key_id: str | None
    storage: str
    s3_bucket: str | None
    aws_region: str
    aws_endpoint_url: str | None
    email_channel: str
    sms_channel: str
    idle_timeout_minutes: int
    absolute_session_hours: int
    demo: bool
    email_sender: str
    smtp_url: str | None
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from: str | None
    twilio_api_url: str | None
    backup_dir: Path | None = None  # unset: no scheduled backups
    backup_keep_days: int = 30
    log_format: str = "human"
    sentry_dsn: str | None = None
    sentry_environment: str | None = None
    sentry_release: str | None = None
    retention: RetentionDays = RetentionDays()
    retention_paused: bool = False  # PORTAL_RETENTION_PAUSED=1, e.g. under a legal hold
    workers: int = 1  # PORTAL_WORKERS: backend processes of `portal serve`

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def key_file(self) -> Path:
        return self.data_dir / "keys" / "master.key"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("PORTAL_DATA_DIR", "data")).expanduser().absolute()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'portal.db'}"
    public_url = _origin(env.get("PORTAL_PUBLIC_URL", "http://localhost:3000"), "PORTAL_PUBLIC_URL")
    key_provider = _choice(env, "PORTAL_KEY_PROVIDER", KEY_PROVIDERS)
    storage = _choice(env, "PORTAL_STORAGE", STORAGE_BACKENDS)
    email_channel = _choice(env, "PORTAL_EMAIL", EMAIL_CHANNELS)
    sms_channel = _choice(env, "PORTAL_SMS", SMS_CHANNELS)
    twilio = sms_channel == "twilio"
    demo = _flag(env, "PORTAL_DEMO")
    return Settings(
        data_dir=data_dir,
        database_url=_database_url(database_url),
        redis_url=_redis_url(env.get("REDIS_URL") or None),
        public_url=public_url,
        allowed_origins=_allowed_origins(env.get("PORTAL_ALLOWED_ORIGINS"), public_url),
        key_provider=key_provider,
        kms_key_id=_required_with(
            env, "PORTAL_KMS_KEY_ID", key_provider == "aws-kms", "PORTAL_KEY_PROVIDER=aws-kms"
        ),
        storage=storage,
        s3_bucket=_required_with(env, "PORTAL_S3_BUCKET", storage == "s3", "PORTAL_STORAGE=s3"),
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        aws_endpoint_url=_optional_url(env, "PORTAL_AWS_ENDPOINT_URL"),
        email_channel=email_channel,
        sms_channel=sms_channel,
        idle_timeout_minutes=_int_in_range(
            env, "PORTAL_IDLE_TIMEOUT_MINUTES", default=15, bounds=IDLE_TIMEOUT_RANGE
        ),
        absolute_session_hours=_int_in_range(
            env, "PORTAL_SESSION_HOURS", default=12, bounds=(1, 12)
        ),
        demo=demo,
        email_sender=env.get("PORTAL_EMAIL_FROM", "Patient portal <portal@localhost>"),
        smtp_url=_required_with(
            env, "PORTAL_SMTP_URL", email_channel == "smtp", "PORTAL_EMAIL=smtp"
        ),
        twilio_account_sid=_required_with(env, "TWILIO_ACCOUNT_SID", twilio, "PORTAL_SMS=twilio"),
        twilio_auth_token=_required_with(env, "TWILIO_AUTH_TOKEN", twilio, "PORTAL_SMS=twilio"),
        twilio_from=_required_with(env, "TWILIO_FROM_NUMBER", twilio, "PORTAL_SMS=twilio"),
        twilio_api_url=_optional_url(env, "PORTAL_TWILIO_API_URL"),
        backup_dir=(
            Path(env["PORTAL_BACKUP_DIR"].strip()).expanduser().absolute()
            if env.get("PORTAL_BACKUP_DIR", "").strip()
            else None
        ),
        backup_keep_days=_int_in_range(
            env, "PORTAL_BACKUP_KEEP_DAYS", default=30, bounds=(1, 3650)
        ),
        log_format=_choice(env, "PORTAL_LOG_FORMAT", LOG_FORMATS),
        sentry_dsn=_optional_url(env, "SENTRY_DSN"),
        sentry_environment=env.get("SENTRY_ENVIRONMENT", "").strip() or None,
        sentry_release=env.get("SENTRY_RELEASE", "").strip() or None,
        retention=RetentionDays(
            **{
                kind: _int_in_range(env, name, default=default, bounds=bounds)
                for kind, (name, default, bounds) in RETENTION_SETTINGS.items()
            }
        ),
        retention_paused=_flag(env, "PORTAL_RETENTION_PAUSED"),
        workers=_int_in_range(env, "PORTAL_WORKERS", default=1, bounds=(1, MAX_WORKERS)),
    )


@cache
def settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()


def _database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL is not a database URL; use e.g. "
            "postgresql+psycopg://user@host:5432/portal or sqlite:///data/portal.db."
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL names the unsupported database '{url.get_backend_name()}'; "
            "use PostgreSQL or SQLite."
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _redis_url(value: str | None) -> str | None:
    if value is not None and urlsplit(value).scheme not in ("redis", "rediss"):
        raise ConfigError("REDIS_URL must start with redis:// or rediss://.")
    return value


def _origin(value: str, name: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) address such as https://portal.example.org.")
    return f"{parts.scheme}://{parts.netloc}"


def _allowed_origins(value: str | None, public_url: str) -> tuple[str, ...]:
    if value:
        return tuple(_origin(item, "PORTAL_ALLOWED_ORIGINS") for item in value.split(","))
    origins = [public_url]
    if "//localhost:" in public_url:
        origins.append(public_url.replace("//localhost:", "//127.0.0.1:"))
    return tuple(origins)


def _required_with(env: Mapping[str, str], name: str, needed: bool, because: str) -> str | None:
    value = env.get(name, "").strip() or None
    if needed and value is None:
        raise ConfigError(f"{name} must be set when {because}.")
    return value


def _optional_url(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if urlsplit(value).scheme not in ("http", "https"):
        raise ConfigError(f"{name} must be an http(s) address.")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, choices[0]).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of: {', '.join(choices)} (it is '{value}').")
    return value


def _int_in_range(
    env: Mapping[str, str], name: str, *, default: int, bounds: tuple[int, int]
) -> int:
    raw = env.get(name)
    low, high = bounds
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be from {low} to {high} (it is {value}).")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0 (it is '{raw}').")
