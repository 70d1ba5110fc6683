"""Running totals behind the Prometheus histograms that would be too costly to recompute
from their source rows at every scrape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from statuspage.extensions import db
from statuspage.models.types import UTCDateTime


class MetricRollup(db.Model):
    """Cumulative figures of one metric over every source row up to ``watermark``; a
    scrape adds the rows since then and moves the watermark."""

    __tablename__ = "metric_rollup"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    watermark: Mapped[datetime] = mapped_column(UTCDateTime)
