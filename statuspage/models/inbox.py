"""The listening inbox: what customers write about the service (X and Mastodon mentions,
searches, hashtags, problem reports), our replies to them, reply templates, and the
polling state of every listened-to source.

Channel ids are plain integers, as on ``Delivery``: removing a channel keeps what was heard
on it and what we answered there.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.types import UTCDateTime

if TYPE_CHECKING:
    from statuspage.models.components import Component
    from statuspage.models.incidents import Incident


class InboxState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    IGNORED = "ignored"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ItemKind(StrEnum):
    """Where an item was heard: a channel kind, or the public problem report form."""

    X = "x"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    REPORT = "report"

    @property
    def label(self) -> str:
        return {
            "x": "X post",
            "mastodon": "Mastodon post",
            "bluesky": "Bluesky post",
            "report": "Problem report",
        }[self.value]


class ReplyKind(StrEnum):
    ANSWER = "answer"
    FOLLOW_UP = "follow_up"  # sent once the incident the item is linked to is resolved


class InboxItem(db.Model):
    """One post or report, stored once per channel whatever source found it."""

    __tablename__ = "inbox_item"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id", name="uq_inbox_item_once"),
        Index("ix_inbox_item_listing", "state", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ItemKind] = mapped_column(String(16))
    channel_id: Mapped[int | None] = mapped_column(Integer)  # None for problem reports
    source: Mapped[str] = mapped_column(String(128))  # "mentions", "search", "tag:x", "form"
    external_id: Mapped[str] = mapped_column(String(64))
    # X's conversation id; Mastodon exposes no thread id, so the post it replies to (or
    # its own id when it starts one).
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    author_id: Mapped[str | None] = mapped_column(String(64))
    author_handle: Mapped[str | None] = mapped_column(String(255))
    author_name: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)  # plain text; markup is removed when stored
    url: Mapped[str | None] = mapped_column(String(1024))
    visibility: Mapped[str | None] = mapped_column(String(16))  # Mastodon's, for the reply
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    state: Mapped[InboxState] = mapped_column(String(16), default=InboxState.NEW)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("incident.id"), index=True)
    component_id: Mapped[str | None] = mapped_column(
        ForeignKey("component.id", ondelete="SET NULL")
    )
    contact_email: Mapped[str | None] = mapped_column(String(254))  # reports only
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    incident: Mapped[Incident | None] = relationship()
    component: Mapped[Component | None] = relationship()
    replies: Mapped[list[InboxReply]] = relationship(
        back_populates="item", order_by="InboxReply.id"
    )

    @property
    def response_seconds(self) -> float | None:
        """Time to first response, from the customer's post to our first reply sent."""
        if self.first_response_at is None:
            return None
        return max(0.0, (self.first_response_at - self.posted_at).total_seconds())

    @property
    def kind_label(self) -> str:
        return ItemKind(self.kind).label

    @property
    def author(self) -> str:
        if self.author_handle:
            return f"@{self.author_handle}"
        return self.author_name or "anonymous"


class InboxReply(db.Model):
    """Our reply to an item, carried by the outbox like an incident update."""

    __tablename__ = "inbox_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inbox_item.id"), index=True)
    kind: Mapped[ReplyKind] = mapped_column(String(16), default=ReplyKind.ANSWER)
    text: Mapped[str] = mapped_column(Text)  # exactly what is sent
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    item: Mapped[InboxItem] = relationship(back_populates="replies")


class ReplyTemplate(db.Model):
    """A prepared answer; ``{incident_url}`` and friends are filled from the linked incident."""

    __tablename__ = "reply_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class ListeningSource(db.Model):
    """Where polling of one source of a channel stands, kept in the database so it resumes
    after restarts: the newest id seen (``since_id``) and, while a backlog larger than one
    poll is worked through from the newest down, the bounds of that unfinished sweep."""

    __tablename__ = "listening_source"
    __table_args__ = (UniqueConstraint("channel_id", "name", name="uq_listening_source_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(128))
    since_id: Mapped[str | None] = mapped_column(String(64))
    sweep_newest_id: Mapped[str | None] = mapped_column(String(64))
    sweep_until_id: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(64))  # the X account's user id
    polling_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a poller's lease
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rate_limited_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items_found: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    @property
    def label(self) -> str:
        if self.name.startswith("tag:"):
            return "#" + self.name[4:]
        return {"mentions": "mentions", "search": "search"}.get(self.name, self.name)
