"""Time to first response: from a customer's post (or report) to our first reply sent.

Distributions are per day (of the customer's post, UTC) and per channel over a recent
period; ignored items are left out, unanswered ones count as received but not answered,
and as missing the one-hour target only once they are older than it.
The admin draws the daily medians and 90th percentiles as a small server-side SVG chart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import Channel, InboxItem, InboxState, ItemKind

DAYS = 14
HOUR = 3600.0


def quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile of sorted ``values``."""
    if not values:
        return None
    return values[max(0, math.ceil(q * len(values)) - 1)]


@dataclass(frozen=True)
class Distribution:
    label: str
    received: int
    seconds: tuple[float, ...]  # response times of the answered items, sorted
    late: int  # unanswered items already older than the target

    @property
    def answered(self) -> int:
        return len(self.seconds)

    @property
    def median(self) -> float | None:
        return quantile(list(self.seconds), 0.5)

    @property
    def p90(self) -> float | None:
        return quantile(list(self.seconds), 0.9)

    @property
    def within_hour(self) -> float | None:
        """Share answered within an hour of the items whose hour is decided: answered ones,
        and unanswered ones older than an hour (a post of eight minutes ago is no miss yet)."""
        decided = self.answered + self.late
        if not decided:
            return None
        return sum(1 for s in self.seconds if s <= HOUR) / decided


def _distribution(
    label: str, rows: Iterable[tuple[datetime, datetime | None]], at: datetime
) -> Distribution:
    rows = list(rows)
    seconds = sorted(max(0.0, (sent - posted).total_seconds()) for posted, sent in rows if sent)
    late = sum(1 for posted, sent in rows if sent is None and (at - posted).total_seconds() > HOUR)
    return Distribution(label, len(rows), tuple(seconds), late)


@dataclass(frozen=True)
class Report:
    days: list[tuple[date, Distribution]]
    channels: list[Distribution]
    overall: Distribution


def report(days: int = DAYS, at: datetime | None = None) -> Report:
    at = at or now()
    first_day = at.date() - timedelta(days=days - 1)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=at.tzinfo)
    rows = db.session.execute(
        select(
            InboxItem.kind,
            InboxItem.channel_id,
            InboxItem.posted_at,
            InboxItem.first_response_at,
        ).where(InboxItem.posted_at >= start, InboxItem.state != InboxState.IGNORED)
    ).all()
    names = {c.id: c.name for c in db.session.scalars(select(Channel))}
    by_day: dict[date, list] = defaultdict(list)
    by_channel: dict[str, list] = defaultdict(list)
    for kind, channel_id, posted, sent in rows:
        by_day[posted.date()].append((posted, sent))
        if kind == ItemKind.REPORT:
            label = "Problem reports"
        else:
            name = names.get(channel_id, f"removed channel #{channel_id}")
            label = f"{name} ({ItemKind(kind).label.removesuffix(' post')})"
        by_channel[label].append((posted, sent))
    day_list = [first_day + timedelta(days=n) for n in range(days)]
    return Report(
        days=[(d, _distribution(d.isoformat(), by_day.get(d, []), at)) for d in day_list],
        channels=[_distribution(label, by_channel[label], at) for label in sorted(by_channel)],
        overall=_distribution("All", [(p, s) for _, _, p, s in rows], at),
    )


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    median_y: float
    p90_y: float
    label: str
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, label) of horizontal grid lines
    baseline: float


def minutes_label(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < HOUR:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / HOUR:.1f} h"


AXIS_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800)


def _nice_ceiling(value: float) -> float:
    """A round axis maximum in seconds: the first whole step of time at or above ``value``."""
    return next((float(step) for step in AXIS_STEPS if value <= step), float(AXIS_STEPS[-1]))


def chart(days: list[tuple[date, Distribution]], width: int = 640, height: int = 200) -> Chart:
    """Bars of the daily median with a mark at the 90th percentile, on a shared axis."""
    top, bottom, left = 10.0, 30.0, 56.0
    plot = height - top - bottom
    ceiling = _nice_ceiling(max((d.p90 or 0.0 for _, d in days), default=0.0))
    slot = (width - left) / max(len(days), 1)

    def y(seconds: float) -> float:
        return top + plot * (1 - min(seconds, ceiling) / ceiling)

    bars = []
    for n, (day, dist) in enumerate(days):
        title = (
            f"{day:%b %-d}: {dist.answered} of {dist.received} answered, "
            f"median {minutes_label(dist.median)}, 90% within {minutes_label(dist.p90)}"
        )
        bars.append(
            Bar(
                x=left + n * slot + slot * 0.15,
                width=slot * 0.7,
                median_y=y(dist.median or 0.0),
                p90_y=y(dist.p90 or 0.0),
                label=f"{day:%-d}",
                title=title,
            )
        )
    ticks = [(y(ceiling * f), minutes_label(ceiling * f)) for f in (0.0, 0.5, 1.0)]
    return Chart(width, height, bars, ticks, top + plot)
