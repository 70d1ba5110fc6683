"""Settings, read only from the environment.

Every setting has an embedded default that lives under one data directory, so a fresh
checkout runs with no configuration; production overrides them with env vars (or
``*_FILE`` variants for secrets mounted as files).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class ConfigError(RuntimeError):
    """A setting is present but unusable; raised at startup, never later."""


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in TRUE:
        return True
    if raw.strip().lower() in FALSE:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def env_secret(name: str) -> str | None:
    """Read ``NAME`` or, for container secrets, the file named by ``NAME_FILE``."""
    path = env_str(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc}") from None
    return env_str(name)


def env_secret_list(name: str) -> list[str]:
    """Several secrets in one setting, separated by commas or (in a file) by lines."""
    raw = env_secret(name) or ""
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _embedded_secret(data_dir: Path) -> str:
    """A per-installation key kept in the data directory (embedded mode only)."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _private_data_dir(data_dir: Path) -> None:
    """Embedded mode keeps its database, broker, counters and key where only we read them."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    for name in ("statuspage.db", "broker.sqlite", "ratelimits.sqlite"):
        # SQLite keeps an existing file's mode, and gives its -wal and -shm files the same.
        os.close(os.open(data_dir / name, os.O_WRONLY | os.O_CREAT, 0o600))


def load_config() -> dict[str, Any]:
    """Build the Flask config mapping from the environment."""
    data_dir = Path(env_str("STATUSPAGE_DATA_DIR", "instance")).resolve()
    database_url = env_str("STATUSPAGE_DATABASE_URL")
    embedded = database_url is None
    if embedded:
        _private_data_dir(data_dir)
        database_url = f"sqlite:///{data_dir / 'statuspage.db'}"
    secret_key = env_secret("STATUSPAGE_SECRET_KEY")
    if secret_key is None:
        if not embedded:
            raise ConfigError("STATUSPAGE_SECRET_KEY is required with STATUSPAGE_DATABASE_URL")
        secret_key = _embedded_secret(data_dir)
    broker_url = env_str("STATUSPAGE_BROKER_URL") or f"sqlite:///{data_dir / 'broker.sqlite'}"
    base_url = (env_str("STATUSPAGE_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    secure = base_url.startswith("https://")
    idle_minutes = env_int("STATUSPAGE_SESSION_IDLE_MINUTES", 30)
    max_hours = env_int("STATUSPAGE_SESSION_MAX_HOURS", 12)
    if idle_minutes < 1 or max_hours < 1:
        raise ConfigError("STATUSPAGE_SESSION_IDLE_MINUTES and _MAX_HOURS must be at least 1")
    return {
        "DATA_DIR": str(data_dir),
        "EMBEDDED": embedded,
        "SECRET_KEY": secret_key,
        # Retired keys still accepted (sessions, signed links, stored secrets).
        "SECRET_KEY_FALLBACKS": env_secret_list("STATUSPAGE_SECRET_KEY_FALLBACKS"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BROKER_URL": broker_url,
        "CELERY_QUEUE": env_str("STATUSPAGE_CELERY_QUEUE", "statuspage"),
        "BASE_URL": base_url,
        "PUBLISH_DIR": str(
            Path(env_str("STATUSPAGE_PUBLISH_DIR") or data_dir / "public").resolve()
        ),
        "SWEEP_INTERVAL": env_int("STATUSPAGE_SWEEP_SECONDS", 5),
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Admin sessions: ended after this long unused, and this long after sign-in.
        "SESSION_IDLE_MINUTES": idle_minutes,
        "SESSION_MAX_HOURS": max_hours,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=max_hours),
        # Sign-in through an OpenID Connect provider (off unless an issuer is set).
        "OIDC_ISSUER": env_str("STATUSPAGE_OIDC_ISSUER"),
        "OIDC_CLIENT_ID": env_str("STATUSPAGE_OIDC_CLIENT_ID"),
        "OIDC_CLIENT_SECRET": env_secret("STATUSPAGE_OIDC_CLIENT_SECRET"),
        "OIDC_ALLOWED_DOMAINS": [
            d.strip().lower()
            for d in (env_str("STATUSPAGE_OIDC_ALLOWED_DOMAINS") or "").split(",")
            if d.strip()
        ],
        "OIDC_PROVIDER_NAME": env_str("STATUSPAGE_OIDC_PROVIDER_NAME", "single sign-on"),
        # Delivery channels and subscriptions.
        "ALLOW_PRIVATE_WEBHOOKS": env_bool("STATUSPAGE_ALLOW_PRIVATE_WEBHOOKS", False),
        "X_API_URL": env_str("STATUSPAGE_X_API_URL", "https://api.twitter.com"),
        # Publishing to an S3-compatible bucket (besides any configured in the admin).
        "S3_BUCKET": env_str("STATUSPAGE_S3_BUCKET"),
        "S3_ENDPOINT_URL": env_str("STATUSPAGE_S3_ENDPOINT_URL"),
        "S3_REGION": env_str("STATUSPAGE_S3_REGION", "us-east-1"),
        "S3_PREFIX": env_str("STATUSPAGE_S3_PREFIX", ""),
        "S3_ACCESS_KEY_ID": env_str("STATUSPAGE_S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": env_secret("STATUSPAGE_S3_SECRET_ACCESS_KEY"),
        "S3_ADDRESSING": env_str("STATUSPAGE_S3_ADDRESSING", "auto"),
        "S3_DELETE_GRACE_SECONDS": env_int("STATUSPAGE_S3_DELETE_GRACE_SECONDS", 3600),
        "ALLOW_PRIVATE_PUBLISH_TARGETS": env_bool(
            "STATUSPAGE_ALLOW_PRIVATE_PUBLISH_TARGETS", False
        ),
        "TELEGRAM_API_URL": env_str("STATUSPAGE_TELEGRAM_API_URL", "https://api.telegram.org"),
        "TWILIO_API_URL": env_str("STATUSPAGE_TWILIO_API_URL", "https://api.twilio.com"),
        "HTTP_TIMEOUT": env_int("STATUSPAGE_HTTP_TIMEOUT", 10),
        "SUBSCRIBE_RATE_LIMIT": env_str(
            "STATUSPAGE_SUBSCRIBE_RATE_LIMIT", "5 per minute;30 per hour"
        ),
        "RATELIMIT_STORAGE_URI": env_str("STATUSPAGE_RATELIMIT_STORAGE_URL")
        or (
            broker_url
            if broker_url.startswith(("redis://", "rediss://"))
            else f"sqlite:///{data_dir / 'ratelimits.sqlite'}"
        ),
        # Listening: the inbox of mentions and problem reports, and the metrics endpoint.
        "LISTEN_POLL_INTERVAL": env_int("STATUSPAGE_LISTEN_POLL_SECONDS", 60),
        "SIGNAL_WINDOW_MINUTES": env_int("STATUSPAGE_SIGNAL_WINDOW_MINUTES", 10),
        "SIGNAL_THRESHOLD": env_int("STATUSPAGE_SIGNAL_THRESHOLD", 5),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted; the
        # rate limits and the login throttle count by the client address they pass on.
        "PROXY_HOPS": env_int("STATUSPAGE_PROXY_HOPS", 0),
        "REPORT_RATE_LIMIT": env_str("STATUSPAGE_REPORT_RATE_LIMIT", "3 per minute;20 per hour"),
        "METRICS_TOKEN": env_secret("STATUSPAGE_METRICS_TOKEN"),
        # Request bodies: the largest allowed (operators' routes take more), and how long
        # statuspage up waits for one to arrive.
        "MAX_BODY_BYTES": env_int("STATUSPAGE_MAX_BODY_BYTES", 64 * 1024),
        "MAX_OPERATOR_BODY_BYTES": env_int("STATUSPAGE_MAX_OPERATOR_BODY_BYTES", 1024 * 1024),
        "BODY_TIMEOUT": env_int("STATUSPAGE_BODY_TIMEOUT_SECONDS", 10),
        # Alert intake: per integration, and the largest body an alert sender may post.
        "INTEGRATION_RATE_LIMIT": env_str(
            "STATUSPAGE_INTEGRATION_RATE_LIMIT", "120 per minute;3000 per hour"
        ),
        "INTEGRATION_MAX_BYTES": env_int("STATUSPAGE_INTEGRATION_MAX_BYTES", 1024 * 1024),
    }
