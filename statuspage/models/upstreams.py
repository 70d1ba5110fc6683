"""Third-party components: vendor status pages we follow by their Statuspage-v2
``summary.json``, and the components read from them.

They are shown on our page in their own group, never mixed with our components: a vendor
failing, or our poll of it failing, never changes a status of ours.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.types import UTCDateTime


class Upstream(db.Model):
    __tablename__ = "upstream"

    id: Mapped[int] = mapped_column(primary_key=True)
    summary_url: Mapped[str] = mapped_column(String(1024), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    page_url: Mapped[str | None] = mapped_column(String(1024))
    poll_seconds: Mapped[int] = mapped_column(Integer, default=120)
    # A status change opens a draft incident; drafts from it notify subscribers when
    # published only if this is set (their customers may not care about our vendors).
    open_drafts: Mapped[bool] = mapped_column(default=False)
    notify_subscribers: Mapped[bool] = mapped_column(default=False)
    # Conditional GET state and polling health.
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    components: Mapped[list[UpstreamComponent]] = relationship(
        back_populates="upstream",
        order_by="UpstreamComponent.position",
        cascade="all, delete-orphan",
    )

    @property
    def followed(self) -> list[UpstreamComponent]:
        return [c for c in self.components if c.followed]


class UpstreamComponent(db.Model):
    __tablename__ = "upstream_component"
    __table_args__ = (
        UniqueConstraint("upstream_id", "vendor_id", name="uq_upstream_component_vendor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    upstream_id: Mapped[int] = mapped_column(
        ForeignKey("upstream.id", ondelete="CASCADE"), index=True
    )
    vendor_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    group_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    followed: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    upstream: Mapped[Upstream] = relationship(back_populates="components")

    @property
    def display_name(self) -> str:
        return f"{self.group_name} - {self.name}" if self.group_name else self.name
