"""Components, their groups, and the append-only history of their statuses."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.types import PublicId, UTCDateTime, new_public_id

if TYPE_CHECKING:
    from statuspage.models.incidents import IncidentUpdate


class ComponentStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ChangeCause(StrEnum):
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"
    MANUAL = "manual"
    AUTOMATION = "automation"  # an alert rule set it, as Statuspage's component automation


class ComponentGroup(db.Model):
    __tablename__ = "component_group"

    id: Mapped[str] = mapped_column(PublicId, primary_key=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    components: Mapped[list[Component]] = relationship(
        back_populates="group", order_by="Component.position"
    )


class Component(db.Model):
    __tablename__ = "component"

    id: Mapped[str] = mapped_column(PublicId, primary_key=True, default=new_public_id)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("component_group.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ComponentStatus] = mapped_column(String(32), default=ComponentStatus.OPERATIONAL)
    showcase: Mapped[bool] = mapped_column(default=True)
    only_show_if_degraded: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    group: Mapped[ComponentGroup | None] = relationship(back_populates="components")

    @property
    def display_name(self) -> str:
        """Statuspage's ``affected_components`` name: "Group - Component"."""
        return f"{self.group.name} - {self.name}" if self.group else self.name


class ComponentStatusChange(db.Model):
    """Every status a component has had; uptime is computed from this, never typed in."""

    __tablename__ = "component_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[str] = mapped_column(ForeignKey("component.id"), index=True)
    old_status: Mapped[ComponentStatus | None] = mapped_column(String(32))
    new_status: Mapped[ComponentStatus] = mapped_column(String(32))
    cause: Mapped[ChangeCause] = mapped_column(String(16))
    incident_update_id: Mapped[str | None] = mapped_column(ForeignKey("incident_update.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)

    incident_update: Mapped[IncidentUpdate | None] = relationship()


class PublishRequest(db.Model):
    """A page change made outside any incident update (a component edited or its status
    set by hand) that the public snapshot must pick up. The table is the queue: a row
    stays unpublished until a render that started after it has been swapped in."""

    __tablename__ = "publish_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
