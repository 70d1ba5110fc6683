"""How many texts each Twilio channel sent in a calendar month, against its monthly cap."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from statuspage.extensions import db
from statuspage.models.types import UTCDateTime


class SmsMonth(db.Model):
    """``sent`` grows by one conditional UPDATE per text before it goes out, so workers
    sending at once can never pass the cap together; ``capped_at`` is when the first text
    was held back for it."""

    __tablename__ = "sms_month"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11", UTC
    sent: Mapped[int] = mapped_column(Integer, default=0)
    capped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
