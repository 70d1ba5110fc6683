"""What a migration brought in: each imported record's id at its source and here, so a
second run updates the same rows instead of adding copies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.types import UTCDateTime


class ImportedRecord(db.Model):
    __tablename__ = "imported_record"
    __table_args__ = (
        UniqueConstraint("source", "kind", "source_id", name="uq_imported_record_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))  # "statuspage:<page id>"
    kind: Mapped[str] = mapped_column(String(32))  # group, component, incident, update, ...
    source_id: Mapped[str] = mapped_column(String(64))
    local_id: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
