"""Configured delivery channels (social accounts, chat webhooks, SMTP), their per-kind config
schema, thread state for threaded channels and operator alerts.

The row is ``Channel``; the code that sends is a ``Transport`` in ``workers/channels``.
Credentials live encrypted in ``secrets_encrypted`` and never leave this module in clear
except to the transport that uses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.lib.crypto import decrypt_json, encrypt_json
from statuspage.models.types import UTCDateTime


class ChannelKind(StrEnum):
    X = "x"
    MASTODON = "mastodon"
    SLACK = "slack"
    WEBHOOK = "webhook"
    EMAIL_SMTP = "email-smtp"
    TEAMS = "teams"
    DISCORD = "discord"
    S3 = "s3"
    TELEGRAM = "telegram"
    BLUESKY = "bluesky"
    TWILIO = "twilio"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    ChannelKind.X: "X (Twitter)",
    ChannelKind.MASTODON: "Mastodon",
    ChannelKind.SLACK: "Slack",
    ChannelKind.WEBHOOK: "Webhook",
    ChannelKind.EMAIL_SMTP: "Email (SMTP)",
    ChannelKind.TEAMS: "Microsoft Teams",
    ChannelKind.DISCORD: "Discord",
    ChannelKind.S3: "S3-compatible bucket",
    ChannelKind.TELEGRAM: "Telegram",
    ChannelKind.BLUESKY: "Bluesky",
    ChannelKind.TWILIO: "SMS (Twilio)",
}
# Kinds that can carry operator alerts (reminders); social accounts are public only.
ALERT_KINDS = (
    ChannelKind.SLACK,
    ChannelKind.WEBHOOK,
    ChannelKind.EMAIL_SMTP,
    ChannelKind.TEAMS,
    ChannelKind.DISCORD,
)
# Kinds that publish the public site somewhere (one more copy of the snapshot), rather than
# announce updates: every update reaches them, whatever the operator chose to notify.
PUBLISH_KINDS = (ChannelKind.S3,)
# Kinds that carry messages to subscribers rather than post anywhere themselves.
SUBSCRIBER_KINDS = (ChannelKind.EMAIL_SMTP, ChannelKind.TWILIO)


class FieldType(StrEnum):
    TEXT = "text"
    URL = "url"
    INTEGER = "integer"
    COUNT = "count"
    CHOICE = "choice"
    EMAIL = "email"
    EMAILS = "emails"
    TAGS = "tags"


@dataclass(frozen=True)
class ConfigField:
    """One setting of a channel kind. ``secret`` values are encrypted and never shown."""

    name: str
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = True
    secret: bool = False
    default: str | int | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


def _listen(what: str) -> ConfigField:
    """The optional listening settings of social channels: off unless an operator opts in,
    since reading the APIs costs quota (and, on X, money)."""
    return ConfigField(
        "listen",
        "Listen",
        FieldType.CHOICE,
        required=False,
        default="off",
        choices=("off", "on"),
        help=f"On: poll {what} into the admin inbox.",
    )


SCHEMAS: dict[ChannelKind, tuple[ConfigField, ...]] = {
    ChannelKind.X: (
        ConfigField("api_key", "API key (consumer key)", secret=True),
        ConfigField("api_key_secret", "API key secret", secret=True),
        ConfigField("access_token", "Access token", secret=True),
        ConfigField("access_token_secret", "Access token secret", secret=True),
        _listen("mentions of the account (and the search below)"),
        ConfigField(
            "search_query",
            "Listening search",
            required=False,
            help='An X recent-search query, e.g. "example.com" down -is:retweet',
        ),
    ),
    ChannelKind.MASTODON: (
        ConfigField("base_url", "Instance URL", FieldType.URL, help="e.g. https://mastodon.social"),
        ConfigField(
            "access_token", "Access token", secret=True, help="Needs the write:statuses scope."
        ),
        ConfigField(
            "visibility",
            "Visibility",
            FieldType.CHOICE,
            default="public",
            choices=("public", "unlisted", "private"),
        ),
        ConfigField("language", "Language (ISO 639)", required=False, help="e.g. en"),
        _listen(
            "mentions (and the hashtags below); the token then also needs the "
            "read:notifications and read:statuses scopes"
        ),
        ConfigField(
            "hashtags",
            "Listening hashtags",
            FieldType.TAGS,
            required=False,
            help="Comma-separated, e.g. examplestatus, exampledown",
        ),
    ),
    ChannelKind.SLACK: (
        ConfigField(
            "webhook_url",
            "Incoming webhook URL",
            FieldType.URL,
            secret=True,
            help="From a Slack app's Incoming Webhooks page; it is a secret.",
        ),
    ),
    ChannelKind.WEBHOOK: (
        ConfigField("url", "Endpoint URL", FieldType.URL),
        ConfigField(
            "signing_secret",
            "Signing secret",
            required=False,
            secret=True,
            help="Leave empty to generate one; it is shown once after saving.",
        ),
    ),
    ChannelKind.TEAMS: (
        ConfigField(
            "webhook_url",
            "Workflow webhook URL",
            FieldType.URL,
            secret=True,
            help="From the Teams workflow “Post to a channel when a webhook request is "
            "received”; it is a secret.",
        ),
    ),
    ChannelKind.DISCORD: (
        ConfigField(
            "webhook_url",
            "Webhook URL",
            FieldType.URL,
            secret=True,
            help="Channel settings → Integrations → Webhooks; it is a secret.",
        ),
        ConfigField(
            "forum",
            "Forum channel",
            FieldType.CHOICE,
            default="off",
            choices=("off", "on"),
            help="On when the webhook posts to a forum channel: each incident opens its own "
            "post and its updates follow inside it.",
        ),
    ),
    ChannelKind.TELEGRAM: (
        ConfigField(
            "bot_token",
            "Bot token",
            secret=True,
            help="From @BotFather. Add the bot to the channel (as an admin allowed to post) "
            "or to the group.",
        ),
        ConfigField(
            "chat_id",
            "Chat",
            help="A public channel's @username, or a chat's numeric id (e.g. -1001234567890).",
        ),
    ),
    ChannelKind.BLUESKY: (
        ConfigField("handle", "Handle", help="e.g. status.example.com"),
        ConfigField(
            "app_password",
            "App password",
            secret=True,
            help="Settings → Privacy and security → App passwords.",
        ),
        ConfigField(
            "service",
            "Service URL",
            FieldType.URL,
            default="https://bsky.social",
            help="The account's PDS or its entryway.",
        ),
        ConfigField("language", "Language (BCP 47)", required=False, help="e.g. en"),
        _listen("mentions of the account and replies to its posts"),
    ),
    ChannelKind.TWILIO: (
        ConfigField("account_sid", "Account SID", help="Starts with AC; Twilio Console → Account."),
        ConfigField("auth_token", "Auth token", secret=True),
        ConfigField(
            "sender",
            "From",
            help="The Twilio number texts come from (E.164, e.g. +14155550100) or a "
            "Messaging Service SID (MG…). Set its incoming-message webhook to "
            "<base URL>/subscribe/sms/inbound (HTTP POST).",
        ),
        ConfigField(
            "monthly_cap",
            "Monthly cap",
            FieldType.COUNT,
            default=1000,
            help="At most this many texts a calendar month (UTC), confirmations included; "
            "texts past it are dropped, not queued, and the operators are alerted.",
        ),
    ),
    ChannelKind.EMAIL_SMTP: (
        ConfigField("host", "SMTP host"),
        ConfigField("port", "Port", FieldType.INTEGER, default=587),
        ConfigField(
            "security",
            "Security",
            FieldType.CHOICE,
            default="starttls",
            choices=("starttls", "tls", "none"),
        ),
        ConfigField("username", "Username", required=False),
        ConfigField("password", "Password", required=False, secret=True),
        ConfigField("from_address", "From address", FieldType.EMAIL),
        ConfigField("from_name", "From name", required=False),
        ConfigField(
            "alert_recipients",
            "Operator alert recipients",
            FieldType.EMAILS,
            required=False,
            help="Comma-separated; empty means every active admin and responder.",
        ),
    ),
    ChannelKind.S3: (
        ConfigField("bucket", "Bucket"),
        ConfigField(
            "endpoint_url",
            "Endpoint URL",
            FieldType.URL,
            required=False,
            help="Empty for AWS S3; e.g. https://<account>.r2.cloudflarestorage.com for "
            "Cloudflare R2, https://s3.<region>.backblazeb2.com for B2, your MinIO's URL.",
        ),
        ConfigField(
            "region", "Region", default="us-east-1", help="R2 takes auto; MinIO any value."
        ),
        ConfigField(
            "prefix",
            "Key prefix",
            required=False,
            help="Publish under this folder of the bucket, e.g. status/. Objects under it "
            "that the site no longer has are deleted after the grace period.",
        ),
        ConfigField("access_key_id", "Access key ID"),
        ConfigField("secret_access_key", "Secret access key", secret=True),
        ConfigField(
            "addressing",
            "Addressing style",
            FieldType.CHOICE,
            default="auto",
            choices=("auto", "path", "virtual"),
            help="path for MinIO and most self-hosted stores.",
        ),
    ),
}

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def _parse_value(spec: ConfigField, raw: str) -> Any:
    if spec.type == FieldType.INTEGER:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not 0 < value < 65536:
            raise ValueError("must be between 1 and 65535")
        return value
    if spec.type == FieldType.COUNT:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not 0 <= value <= 10_000_000:
            raise ValueError("must be between 0 and 10000000")
        return value
    if spec.type == FieldType.CHOICE and raw not in spec.choices:
        raise ValueError(f"must be one of {', '.join(spec.choices)}")
    if spec.type == FieldType.URL and not re.match(r"^https?://[^\s/]+", raw):
        raise ValueError("must be an http(s) URL")
    if spec.type == FieldType.EMAIL and not _EMAIL.match(raw):
        raise ValueError("is not an email address")
    if spec.type == FieldType.EMAILS:
        items = [item.strip() for item in raw.split(",") if item.strip()]
        bad = [item for item in items if not _EMAIL.match(item)]
        if bad:
            raise ValueError(f"not email addresses: {', '.join(bad)}")
        return items
    if spec.type == FieldType.TAGS:
        tags = [t.lstrip("#") for t in re.split(r"[,\s]+", raw) if t.lstrip("#")]
        bad = [t for t in tags if not re.fullmatch(r"\w{1,100}", t)]
        if bad:
            raise ValueError(f"not hashtags: {', '.join(bad)}")
        if len(tags) > 10:
            raise ValueError("at most 10 hashtags")
        return ", ".join(dict.fromkeys(t.lower() for t in tags))
    if len(raw) > 2000:
        raise ValueError("is too long")
    return raw


def parse_config(
    kind: ChannelKind, submitted: Mapping[str, str], current_secrets: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate submitted settings into (config, secrets). An empty secret field keeps the
    stored value, so editing a channel never requires re-typing its credentials."""
    config: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in SCHEMAS[kind]:
        raw = (submitted.get(spec.name) or "").strip()
        if not raw and spec.secret and spec.name in current_secrets:
            secrets[spec.name] = current_secrets[spec.name]
            continue
        if not raw:
            if spec.default is not None:
                raw = str(spec.default)
            elif spec.required:
                errors[spec.name] = "is required"
                continue
            else:
                continue
        try:
            value = _parse_value(spec, raw)
        except ValueError as exc:
            errors[spec.name] = str(exc)
            continue
        (secrets if spec.secret else config)[spec.name] = value
    if errors:
        raise ValidationError(errors)
    return config, secrets


class Channel(db.Model):
    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChannelKind] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Public announcements of incident updates, and/or alerts to the operators themselves.
    announce_updates: Mapped[bool] = mapped_column(default=True)
    operator_alerts: Mapped[bool] = mapped_column(default=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    # Circuit breaker: consecutive failed sends, and until when sends are held back.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_ok: Mapped[bool | None]
    last_test_message: Mapped[str | None] = mapped_column(Text)
    # The longest post the far end takes, as the worker last read it (Mastodon instances
    # each set their own): the console's preview fits posts to the same number.
    post_limit: Mapped[int | None] = mapped_column(Integer)
    post_limit_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def secrets(self) -> dict[str, Any]:
        return decrypt_json(self.secrets_encrypted)

    @secrets.setter
    def secrets(self, values: dict[str, Any]) -> None:
        self.secrets_encrypted = encrypt_json(values) if values else None

    @property
    def schema(self) -> tuple[ConfigField, ...]:
        return SCHEMAS[ChannelKind(self.kind)]

    @property
    def kind_label(self) -> str:
        return ChannelKind(self.kind).label

    @classmethod
    def announcing(cls) -> list[Channel]:
        return list(
            db.session.scalars(
                db.select(cls)
                .where(
                    cls.enabled.is_(True),
                    cls.announce_updates.is_(True),
                    cls.kind.not_in(PUBLISH_KINDS),
                )
                .order_by(cls.id)
            )
        )

    @classmethod
    def publish_targets(cls) -> list[Channel]:
        """The enabled places beyond the local folder that the site is published to."""
        return list(
            db.session.scalars(
                db.select(cls)
                .where(cls.enabled.is_(True), cls.kind.in_(PUBLISH_KINDS))
                .order_by(cls.id)
            )
        )

    @classmethod
    def twilio(cls) -> Channel | None:
        """The Twilio account subscriber texts go through: the first enabled one."""
        return db.session.scalars(
            db.select(cls)
            .where(cls.enabled.is_(True), cls.kind == ChannelKind.TWILIO)
            .order_by(cls.id)
            .limit(1)
        ).first()

    @classmethod
    def smtp(cls) -> Channel | None:
        """The SMTP server subscriber mail goes through: the first enabled one."""
        return db.session.scalars(
            db.select(cls)
            .where(cls.enabled.is_(True), cls.kind == ChannelKind.EMAIL_SMTP)
            .order_by(cls.id)
            .limit(1)
        ).first()


class ChannelThread(db.Model):
    """The last post of an incident's thread on a channel: the next update replies to it."""

    __tablename__ = "channel_thread"

    channel_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id"), primary_key=True)
    last_external_id: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    @classmethod
    def last_post(cls, channel_id: int, incident_id: str) -> str | None:
        row = db.session.get(cls, (channel_id, incident_id))
        return row.last_external_id if row else None

    @classmethod
    def remember(cls, channel_id: int, incident_id: str, external_id: str) -> None:
        """Add to the current transaction; it commits with the delivery's ``sent`` state."""
        row = db.session.get(cls, (channel_id, incident_id))
        if row is None:
            db.session.add(
                cls(channel_id=channel_id, incident_id=incident_id, last_external_id=external_id)
            )
        else:
            row.last_external_id = external_id


class AlertKind(StrEnum):
    REMINDER = "reminder"  # the promised next update is due soon
    OVERDUE = "overdue"  # the promised next update time has passed
    OVERDUE_AGAIN = "overdue_again"  # still overdue, told again at the repeat interval
    UNPUBLISHED = "unpublished"  # the public page leaves the incident out: it cannot render
    DRAFT = "draft"  # monitoring alerts opened a draft incident
    ALERTS_RESOLVED = "alerts_resolved"  # the alerts behind a draft or incident resolved
    UPSTREAM = "upstream"  # a followed vendor component changed status
    SMS_CAP = "sms_cap"  # a Twilio channel reached its monthly cap: texts are held back


class OperatorAlert(db.Model):
    """A message to the operators (not a public update), one per channel: about an
    incident's update, or about something not public at all (a draft, a vendor's change),
    which carries its own ``subject`` and admin ``link`` instead.

    Unique on (update, kind, channel) and (subject, kind, channel): a beat task may ask
    again every minute, the operators hear it once.
    """

    __tablename__ = "operator_alert"
    __table_args__ = (
        UniqueConstraint("update_id", "kind", "channel_id", name="uq_operator_alert_once"),
        UniqueConstraint("subject", "kind", "channel_id", name="uq_operator_alert_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[str | None] = mapped_column(ForeignKey("incident_update.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(64))
    link: Mapped[str | None] = mapped_column(String(255))  # an admin path, e.g. /admin/…
    channel_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[AlertKind] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
