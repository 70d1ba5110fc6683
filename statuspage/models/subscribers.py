"""People and systems that asked to be told: email addresses, webhook endpoints, Slack
channels (by their incoming-webhook URL) and phone numbers (SMS).

A subscriber hears about an update only once confirmed (double opt-in) and only for the
components it follows (none chosen means all). Links in mail are signed with the app's
secret key and a per-subscriber nonce; rotating the nonce revokes every earlier link.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    exists,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.lib.crypto import decrypt_json, encrypt_json
from statuspage.models.components import Component
from statuspage.models.incidents import IncidentUpdate
from statuspage.models.types import UTCDateTime


class SubscriberKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    SMS = "sms"
    SLACK = "slack"


def new_nonce() -> str:
    return secrets.token_hex(8)


subscriber_component = Table(
    "subscriber_component",
    db.metadata,
    Column("subscriber_id", ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "component_id", ForeignKey("component.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Subscriber(db.Model):
    __tablename__ = "subscriber"
    __table_args__ = (UniqueConstraint("kind", "address", name="uq_subscriber_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SubscriberKind] = mapped_column(String(16))
    # A lower-cased email, an endpoint URL, or an E.164 phone number.
    address: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    link_nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # A subscribe request waiting for confirmation: {"components": [ids] | None (= all)}.
    pending_filter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    confirm_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    components: Mapped[list[Component]] = relationship(
        secondary=subscriber_component, order_by="Component.position"
    )

    @property
    def secret(self) -> str | None:
        return decrypt_json(self.secret_encrypted).get("secret")

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = encrypt_json({"secret": value})

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def masked_address(self) -> str:
        """Enough to recognise one's own address on a page, not enough to harvest it."""
        if self.kind == SubscriberKind.EMAIL:
            local, _, domain = self.address.partition("@")
            return f"{local[:1]}***@{domain}"
        if self.kind == SubscriberKind.SMS:
            return f"{self.address[:3]}***{self.address[-2:]}"
        if self.kind == SubscriberKind.SLACK:
            return self.shown_address
        return self.address.split("?", 1)[0][:60]

    @property
    def shown_address(self) -> str:
        """The address as operators see it. A Slack incoming-webhook URL ends in the token
        that lets anyone post to the channel; that part is never shown."""
        if self.kind == SubscriberKind.SLACK:
            head, _, token = self.address.rpartition("/")
            return f"{head}/{token[:2]}…" if head else "Slack channel"
        return self.address


def fanout_select(
    update: IncidentUpdate, kind: SubscriberKind, batch_size: int, channel_id: int | None
) -> Select:
    """Delivery rows for every confirmed ``kind`` subscriber that follows a component of
    the update's incident (or follows everything), as a SELECT for INSERT … FROM SELECT.

    Rows are grouped into mailboxes ``<kind>:<update>:<subscriber id // batch_size>``;
    the idempotency key ``<update>-s<subscriber>`` is stable, so a resend can be recognised.
    """
    from statuspage.models.delivery import DeliveryState, TargetKind

    sub = Subscriber.__table__
    follows = subscriber_component.c
    component_ids = sorted(
        {c.id for c in update.incident.components} | {a.component_id for a in update.affected}
    )
    follows_all = ~exists().where(follows.subscriber_id == sub.c.id)
    matches = follows_all
    if component_ids:
        matches = or_(
            follows_all,
            exists().where(
                follows.subscriber_id == sub.c.id, follows.component_id.in_(component_ids)
            ),
        )
    at = literal(update.created_at, UTCDateTime())
    return select(
        literal(update.id).label("update_id"),
        literal(str(TargetKind.SUBSCRIBER)).label("target_kind"),
        sub.c.id.label("target_id"),
        (literal(f"{kind}:{update.id}:") + cast(sub.c.id // batch_size, String)).label("mailbox"),
        literal(str(kind)).label("transport"),
        literal(channel_id, Integer()).label("channel_id"),
        literal(str(DeliveryState.PENDING)).label("state"),
        literal(0).label("attempts"),
        at.label("next_attempt_at"),
        (literal(f"{update.id}-s") + cast(sub.c.id, String)).label("idempotency_key"),
        at.label("created_at"),
    ).where(sub.c.kind == kind, sub.c.confirmed_at.is_not(None), matches)
