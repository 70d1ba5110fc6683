"""Incidents (and scheduled maintenances, which Statuspage models as incidents too)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.components import Component, ComponentStatus
from statuspage.models.types import PublicId, UTCDateTime, new_public_id


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"


incident_component = Table(
    "incident_component",
    db.metadata,
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
    Column("component_id", ForeignKey("component.id", ondelete="CASCADE"), primary_key=True),
)


class Incident(db.Model):
    __tablename__ = "incident"

    id: Mapped[str] = mapped_column(PublicId, primary_key=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[IncidentStatus] = mapped_column(String(32), index=True)
    impact: Mapped[Impact] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    # Indexed: a publish looks up what changed since the served snapshot by it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now, index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    monitoring_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    update_interval: Mapped[int | None] = mapped_column(Integer)  # minutes
    next_update_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    postmortem_body: Mapped[str | None] = mapped_column(Text)
    postmortem_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_auto_in_progress: Mapped[bool] = mapped_column(Boolean, default=True)
    scheduled_auto_completed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Cadence bookkeeping, cleared by every new update: when the beat reminded the
    # responders about the current promise, and when it found that promise broken.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Time to first post: when the problem began (the earliest alert, or the operator's
    # word) and when the first public update was committed.
    problem_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # A maintenance window's iCalendar SEQUENCE (bumped by every move and by a cancel) and
    # when it was called off before it began.
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    components: Mapped[list[Component]] = relationship(
        secondary=incident_component, order_by="Component.position"
    )
    updates: Mapped[list[IncidentUpdate]] = relationship(
        back_populates="incident", order_by="IncidentUpdate.created_at.desc()"
    )

    @property
    def is_maintenance(self) -> bool:
        return self.scheduled_for is not None

    @property
    def is_open(self) -> bool:
        return self.status not in (
            IncidentStatus.RESOLVED,
            IncidentStatus.POSTMORTEM,
            IncidentStatus.COMPLETED,
        )


class IncidentUpdate(db.Model):
    """One public message. Published text is never changed in place: see revisions."""

    __tablename__ = "incident_update"

    id: Mapped[str] = mapped_column(PublicId, primary_key=True, default=new_public_id)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id"), index=True)
    status: Mapped[IncidentStatus] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    deliver_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now, index=True)
    display_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The "next update by" promised with this update; every channel quotes this one.
    next_update_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The announcing channels the operator chose for this update; None means all of them.
    notify_channel_ids: Mapped[list[int] | None] = mapped_column(JSON)

    incident: Mapped[Incident] = relationship(back_populates="updates")
    affected: Mapped[list[AffectedComponent]] = relationship(
        back_populates="update", order_by="AffectedComponent.position"
    )
    revisions: Mapped[list[IncidentUpdateRevision]] = relationship(
        back_populates="update", order_by="IncidentUpdateRevision.created_at"
    )


class AffectedComponent(db.Model):
    """A component named by an update, with its status before and after it."""

    __tablename__ = "affected_component"

    update_id: Mapped[str] = mapped_column(ForeignKey("incident_update.id"), primary_key=True)
    component_id: Mapped[str] = mapped_column(ForeignKey("component.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    old_status: Mapped[ComponentStatus] = mapped_column(String(32))
    new_status: Mapped[ComponentStatus] = mapped_column(String(32))

    update: Mapped[IncidentUpdate] = relationship(back_populates="affected")
    component: Mapped[Component] = relationship()


class IncidentUpdateRevision(db.Model):
    """The text an update had before an edit; the public page shows that it changed."""

    __tablename__ = "incident_update_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[str] = mapped_column(ForeignKey("incident_update.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    update: Mapped[IncidentUpdate] = relationship(back_populates="revisions")


class IncidentTemplate(db.Model):
    """A prepared message responders pick instead of writing the common ones under stress."""

    __tablename__ = "incident_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    status: Mapped[IncidentStatus] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class MaintenanceNotice(db.Model):
    """An advance notice of a maintenance window, sent as its update: one per window start
    and offset, so a beat that runs twice sends it once and a moved window is told again."""

    __tablename__ = "maintenance_notice"
    __table_args__ = (
        UniqueConstraint(
            "incident_id", "scheduled_for", "offset_minutes", name="uq_maintenance_notice_once"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    offset_minutes: Mapped[int] = mapped_column(Integer)
    update_id: Mapped[str] = mapped_column(ForeignKey("incident_update.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
