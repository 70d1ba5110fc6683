"""The one public page this installation serves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.types import PublicId, UTCDateTime, new_public_id


class Page(db.Model):
    __tablename__ = "page"

    id: Mapped[str] = mapped_column(PublicId, primary_key=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(255), default="Status")
    time_zone: Mapped[str] = mapped_column(String(64), default="Etc/UTC")
    # The language of the page at "/", of feeds, social posts and emails (statuspage.i18n).
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # Branding (statuspage.branding checks every value before it is stored).
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(32))
    favicon: Mapped[bytes | None] = mapped_column(LargeBinary)
    favicon_type: Mapped[str | None] = mapped_column(String(32))
    brand_colour: Mapped[str | None] = mapped_column(String(7))
    footer_links: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    custom_css: Mapped[str | None] = mapped_column(Text)
    # Roles (comma-separated) whose users must sign in with a second factor.
    two_factor_roles: Mapped[str] = mapped_column(String(64), default="")
    # Minutes between promised updates by impact and status ({impact: {status: minutes}});
    # None keeps the built-in defaults (statuspage.incidents.intervals).
    update_cadence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # An overdue promise is told to the operators again this often until an update is posted.
    overdue_repeat_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # Minutes before a maintenance window starts at which subscribers and the announcing
    # channels are reminded of it; None keeps the default (24 hours and 1 hour).
    maintenance_notice_minutes: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    @classmethod
    def get(cls) -> Page:
        """The page row, created on first use so every installation has exactly one."""
        page = db.session.scalars(db.select(cls).limit(1)).first()
        if page is None:
            page = cls()
            db.session.add(page)
            db.session.flush()
        return page
