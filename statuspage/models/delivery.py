"""The outbox: one row per (update, target) or (reply, target), carried to its channel by
the workers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.inbox import InboxReply
from statuspage.models.incidents import IncidentUpdate
from statuspage.models.types import UTCDateTime


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # last attempt failed; another is scheduled at next_attempt_at
    DEAD = "dead"  # gave up; shown to operators with the last error
    # A send may have happened on a channel that cannot dedupe: the account's posts are read
    # back to settle it; never re-sent blindly. It holds its thread's place until settled.
    UNCERTAIN = "uncertain"


class TargetKind(StrEnum):
    PAGE = "page"
    CHANNEL = "channel"
    SUBSCRIBER = "subscriber"
    ALERT = "alert"  # an operator alert (OperatorAlert row) about the update's incident
    REPLY = "reply"  # our reply (InboxReply row) to an inbox item; target_id is the item


PAGE_TARGET_ID = 0  # the public page is a single, built-in target
ONE_SUBJECT = (
    "((update_id IS NULL) <> (reply_id IS NULL)) OR "
    "(target_kind = 'alert' AND update_id IS NULL AND reply_id IS NULL)"
)


class BatchRow(NamedTuple):
    """A claimed subscriber row as a batch sender needs it, read by the claim's own
    RETURNING: a mailing of 100,000 rows builds no ORM object per row."""

    id: int
    update_id: str | None
    target_id: int
    channel_id: int | None
    idempotency_key: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    send_started_at: datetime | None


class Delivery(db.Model):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("update_id", "target_kind", "target_id", name="uq_delivery_target"),
        UniqueConstraint("reply_id", "target_kind", "target_id", name="uq_delivery_reply_target"),
        # A row carries either an incident update or a reply to a customer, never both; an
        # operator alert about something not public (a draft) carries neither.
        CheckConstraint(ONE_SUBJECT, name="one_subject"),
        Index("ix_delivery_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[str | None] = mapped_column(ForeignKey("incident_update.id"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_reply.id"), index=True)
    target_kind: Mapped[TargetKind] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    mailbox: Mapped[str] = mapped_column(String(64), index=True)
    # Which Transport carries the row ("page", "x", "email", ...) and through which
    # configured Channel; subscriber rows of one batch share a mailbox.
    transport: Mapped[str | None] = mapped_column(String(16))
    channel_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[DeliveryState] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Committed just before the network call: a claimed row with none was never sent.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What that send carried where a read-back must recognise it (X: text, in_reply_to).
    attempt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    external_id: Mapped[str | None] = mapped_column(String(255))
    external_url: Mapped[str | None] = mapped_column(String(1024))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    update: Mapped[IncidentUpdate | None] = relationship()
    reply: Mapped[InboxReply | None] = relationship()

    @property
    def latency_seconds(self) -> float | None:
        """Commit-to-sent time, the figure that says whether we told customers fast."""
        if self.sent_at is None:
            return None
        return (self.sent_at - self.created_at).total_seconds()
