"""Who did what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.accounts import User
from statuspage.models.types import UTCDateTime


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)

    actor: Mapped[User | None] = relationship()


def record(
    actor: User | None,
    action: str,
    obj_type: str,
    obj_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (it commits or rolls back with it)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else "system",
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        before=before,
        after=after,
    )
    db.session.add(event)
    return event
