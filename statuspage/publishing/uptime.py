"""Daily uptime per component, computed from the recorded status history.

Nothing here is typed in by an operator: every figure comes from ``ComponentStatusChange``
rows. The weighting follows what status-page readers already know: a major outage counts
fully as down time, a partial outage counts 30 %, degraded performance and maintenance do
not count. ``RULE`` is printed on the page so readers can check the arithmetic.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from babel import Locale
from babel.numbers import format_percent as babel_percent
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.models import Component, ComponentStatus, ComponentStatusChange

log = logging.getLogger(__name__)

DAYS = 90
WEIGHTS = {ComponentStatus.MAJOR_OUTAGE: 1.0, ComponentStatus.PARTIAL_OUTAGE: 0.3}
RULE = _l(
    "Uptime is the share of each day without outage: a major outage counts fully as down "
    "time, a partial outage counts as 30 percent down time, and degraded performance or scheduled "
    "maintenance does not count. Days before a component was added have no data."
)
# Which status colours a day's bar: the worst one the day saw.
_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}


@dataclass
class Day:
    day: date
    covered: float = 0.0  # seconds of the day the component existed (up to now)
    durations: dict[ComponentStatus, float] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        return self.covered > 0

    @property
    def down(self) -> float:
        return sum(WEIGHTS.get(s, 0.0) * seconds for s, seconds in self.durations.items())

    @property
    def worst(self) -> ComponentStatus | None:
        seen = [s for s, seconds in self.durations.items() if seconds > 0]
        return max(seen, key=_RANK.__getitem__) if seen else None

    @property
    def percent(self) -> float | None:
        return percent(self.down, self.covered)

    @property
    def notes(self) -> list[tuple[ComponentStatus, int]]:
        """Minutes spent in each non-operational status, worst first."""
        return [
            (status, max(1, round(seconds / 60)))
            for status, seconds in sorted(self.durations.items(), key=lambda item: -_RANK[item[0]])
            if status != ComponentStatus.OPERATIONAL and seconds > 0
        ]


@dataclass
class Uptime:
    days: list[Day]

    @property
    def percent(self) -> float | None:
        return percent(sum(d.down for d in self.days), sum(d.covered for d in self.days))

    @property
    def outage_days(self) -> list[Day]:
        return [d for d in self.days if d.notes]


def percent(down: float, covered: float) -> float | None:
    if covered <= 0:
        return None
    return max(0.0, 100.0 * (1 - down / covered))


def format_percent(value: float | None) -> str:
    """Two decimals, rounded down, so any down time never shows as a perfect 100 %."""
    if value is None:
        return _("no data")
    locale = get_locale() or Locale.parse("en")
    # The locale's own percent pattern ("#,##0%", "#,##0 %", "%#,##0"), with two decimals.
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.00", 1)
    return babel_percent(int(value * 100) / 10000, pattern, locale=locale)


def window_start(at: datetime, days: int = DAYS) -> datetime:
    first = at.astimezone(UTC).date() - timedelta(days=days - 1)
    return datetime.combine(first, time(), tzinfo=UTC)


def _split(days: dict[date, Day], start: datetime, end: datetime, status: ComponentStatus) -> None:
    """Add the interval [start, end) in ``status`` to the days it spans."""
    while start < end:
        midnight = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=UTC)
        stop = min(end, midnight)
        day = days.get(start.date())
        if day is not None:
            seconds = (stop - start).total_seconds()
            day.covered += seconds
            day.durations[status] = day.durations.get(status, 0.0) + seconds
        start = stop


def compute(
    since: datetime,
    changes: list[tuple[datetime, ComponentStatus]],
    status_at_start: ComponentStatus,
    at: datetime,
    days: int = DAYS,
) -> Uptime:
    """Uptime for one component that exists from ``since``, given its changes after the
    window start (oldest first) and its status when the window opened."""
    begin = window_start(at, days)
    by_day = {
        (begin + timedelta(days=i)).date(): Day((begin + timedelta(days=i)).date())
        for i in range(days)
    }
    cursor, status = max(begin, since), status_at_start
    for changed_at, new_status in changes:
        if changed_at > cursor:
            _split(by_day, cursor, min(changed_at, at), status)
            cursor = max(cursor, changed_at)
        status = new_status
    _split(by_day, cursor, at, status)
    return Uptime(list(by_day.values()))


def _uptime(
    component: Component,
    raw: list[tuple[datetime, str, str | None]],
    last_before: str | None,
    at: datetime,
    days: int,
) -> Uptime:
    history = [(t, ComponentStatus(new), old and ComponentStatus(old)) for t, new, old in raw]
    if last_before is not None:
        opening = ComponentStatus(last_before)
    elif history and history[0][2] is not None:
        opening = history[0][2]
    elif history:
        opening = history[0][1]
    else:
        opening = ComponentStatus(component.status)
    since = component.created_at
    if component.start_date is not None:
        since = datetime.combine(component.start_date, time(), tzinfo=UTC)
    return compute(since, [(t, s) for t, s, _ in history], opening, at, days)


def load_uptime(components: list[Component], at: datetime, days: int = DAYS) -> dict[str, Uptime]:
    """Uptime of every component, from two queries over the window's history."""
    begin = window_start(at, days)
    change = ComponentStatusChange
    rows = db.session.execute(
        select(change.component_id, change.created_at, change.old_status, change.new_status)
        .where(change.created_at >= begin, change.created_at <= at)
        .order_by(change.created_at, change.id)
    ).all()
    last_before = (
        select(func.max(change.id)).where(change.created_at < begin).group_by(change.component_id)
    )
    before = dict(
        db.session.execute(
            select(change.component_id, change.new_status).where(change.id.in_(last_before))
        ).all()
    )
    in_window: dict[str, list[tuple[datetime, str, str | None]]] = defaultdict(list)
    for component_id, created_at, old_status, new_status in rows:
        in_window[component_id].append((created_at, new_status, old_status))
    result = {}
    for component in components:
        try:
            result[component.id] = _uptime(
                component, in_window.get(component.id, []), before.get(component.id), at, days
            )
        except ValueError:
            # A status no vocabulary knows: the component gets no uptime, so rendering it
            # fails and publishing leaves it out (see quarantine), not the whole page.
            log.warning("component %s has a status history that cannot be read", component.id)
    return result
