"""Inbound monitoring alerts: the integrations that send them, the rules that map them to
components, every alert received (one row per fingerprint), the drafts they open, and a
small log of refused payloads.

A draft is not an incident: nothing public reads this table. Publishing a draft opens an
incident under the draft's own id, in the operator's transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.accounts import hash_token
from statuspage.models.types import PublicId, UTCDateTime, new_public_id

SECRET_PREFIX = "spi_"


class IntegrationKind(StrEnum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    GENERIC = "generic"

    @property
    def label(self) -> str:
        return {
            "alertmanager": "Prometheus Alertmanager",
            "grafana": "Grafana alerting",
            "generic": "Generic JSON",
        }[self.value]


class RuleMode(StrEnum):
    DRAFT = "draft"  # a firing alert opens a draft incident an operator publishes
    AUTOMATIC = "automatic"  # a firing alert sets component statuses, no text

    @property
    def label(self) -> str:
        return "Draft an incident" if self == RuleMode.DRAFT else "Set component statuses"


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class DraftState(StrEnum):
    OPEN = "open"
    PUBLISHED = "published"
    DISCARDED = "discarded"


class DraftSource(StrEnum):
    ALERTS = "alerts"
    UPSTREAM = "upstream"


class Integration(db.Model):
    __tablename__ = "integration"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IntegrationKind] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    secret_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_count: Mapped[int] = mapped_column(Integer, default=0)

    rules: Mapped[list[AlertRule]] = relationship(
        back_populates="integration",
        order_by="AlertRule.position",
        cascade="all, delete-orphan",
    )

    @property
    def kind_label(self) -> str:
        return IntegrationKind(self.kind).label

    def new_secret(self) -> str:
        """Set a fresh secret and return it in clear, the only time it exists so."""
        plain = SECRET_PREFIX + secrets.token_urlsafe(32)
        self.secret_hash = hash_token(plain)
        self.secret_prefix = plain[:10]
        return plain

    @classmethod
    def by_secret(cls, plain: str) -> Integration | None:
        return db.session.scalars(
            db.select(cls).where(cls.secret_hash == hash_token(plain))
        ).first()


class AlertRule(db.Model):
    """Alerts whose labels match every matcher get this rule's components, status and
    impact; the first matching rule by position wins."""

    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integration.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # [[label, op, value], ...] with op one of =, !=, =~, !~ (Alertmanager's matchers).
    matchers: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    component_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    component_status: Mapped[str] = mapped_column(String(32))
    impact: Mapped[str] = mapped_column(String(16))
    mode: Mapped[RuleMode] = mapped_column(String(16), default=RuleMode.DRAFT)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_template.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    integration: Mapped[Integration] = relationship(back_populates="rules")

    @property
    def mode_label(self) -> str:
        return RuleMode(self.mode).label


class IncidentDraft(db.Model):
    """A proposed incident nobody outside the admin sees until an operator publishes it."""

    __tablename__ = "incident_draft"

    id: Mapped[str] = mapped_column(PublicId, primary_key=True, default=new_public_id)
    source: Mapped[DraftSource] = mapped_column(String(16), default=DraftSource.ALERTS)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_rule.id", ondelete="SET NULL"), index=True
    )
    upstream_id: Mapped[int | None] = mapped_column(Integer, index=True)
    state: Mapped[DraftState] = mapped_column(String(16), default=DraftState.OPEN, index=True)
    name: Mapped[str] = mapped_column(String(255))
    impact: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # {component_id: status} as the incident will open with.
    components: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    notify: Mapped[bool] = mapped_column(default=True)
    problem_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Every alert behind it has resolved: the admin proposes the resolution.
    alerts_resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    alerts: Mapped[list[ReceivedAlert]] = relationship(
        back_populates="draft", order_by="ReceivedAlert.starts_at"
    )
    rule: Mapped[AlertRule | None] = relationship()

    @property
    def incident_id(self) -> str | None:
        """A published draft became the incident with its own id."""
        return self.id if self.state == DraftState.PUBLISHED else None


class ReceivedAlert(db.Model):
    """The latest state of one alert (one fingerprint) of an integration."""

    __tablename__ = "received_alert"
    __table_args__ = (
        UniqueConstraint("integration_id", "fingerprint", name="uq_received_alert_fingerprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integration.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(128))
    status: Mapped[AlertStatus] = mapped_column(String(16))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rule.id", ondelete="SET NULL"))
    draft_id: Mapped[str | None] = mapped_column(
        ForeignKey("incident_draft.id", ondelete="SET NULL"), index=True
    )

    draft: Mapped[IncidentDraft | None] = relationship(back_populates="alerts")


class IntakeLogEntry(db.Model):
    """A payload an integration refused, with the reason: kept small, newest first."""

    __tablename__ = "intake_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integration.id", ondelete="CASCADE"), index=True
    )
    status_code: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
