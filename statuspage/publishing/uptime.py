"""Daily uptime per component, computed from the recorded status history.

Nothing here is typed in by an operator: every figure comes from ``ComponentStatusChange``
rows. The weighting follows what status-page readers already know: a major outage counts
fully as down time, a partial outage counts 30 %, degraded performance and maintenance do
not count. ``RULE`` is printed on the page so readers can check the arithmetic.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any

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
    # (serial, down time, covered time) of every day but today, when they were computed
    # once for several publishes: the serial names them, the sums spare adding them up.
    closed: tuple[int, float, float] | None = None

    @cached_property
    def percent(self) -> float | None:
        if self.closed is not None:
            _, down, covered = self.closed
            return percent(down + self.days[-1].down, covered + self.days[-1].covered)
        down, covered = _sums(self.days)
        return percent(down, covered)

    @property
    def outage_days(self) -> list[Day]:
        return [d for d in self.days if d.notes]


def _sums(days: list[Day]) -> tuple[float, float]:
    """Down and covered seconds of ``days``, added in order (so kept sums plus today's
    give what adding every day gives)."""
    down = covered = 0.0
    for day in days:
        down += day.down
        covered += day.covered
    return down, covered


def percent(down: float, covered: float) -> float | None:
    if covered <= 0:
        return None
    return max(0.0, 100.0 * (1 - down / covered))


def hundredths(value: float | None) -> int | None:
    """A percentage as shown: in hundredths, rounded down, so any down time never shows as
    a perfect 100 %."""
    return None if value is None else int(value * 100)


def format_percent(value: float | None) -> str:
    return format_hundredths(hundredths(value))


def format_hundredths(value: int | None) -> str:
    """A percentage given in hundredths, in the current language."""
    if value is None:
        return _("no data")
    return _formatted(value, get_locale() or Locale.parse("en"))


@lru_cache(maxsize=16384)
def _formatted(value: int, locale: Locale) -> str:
    """Babel parses the pattern on every call; a page prints a few hundred percentages."""
    # The locale's own percent pattern ("#,##0%", "#,##0 %", "%#,##0"), with two decimals.
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.00", 1)
    return babel_percent(value / 10000, pattern, locale=locale)


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


def _opening(last_before: str | None, first: tuple[str, str | None] | None, current: str) -> str:
    """The status the window opens with: the last one before it, else the one its first
    change left, else the component's own."""
    if last_before is not None:
        return last_before
    if first is not None:
        return first[1] if first[1] is not None else first[0]
    return current


def _since(component: Component) -> datetime:
    if component.start_date is not None:
        return datetime.combine(component.start_date, time(), tzinfo=UTC)
    return component.created_at


@dataclass
class _Closed:
    """A component's days before today: later rows do not change them, so a publish
    computes them once a day and only today's share every time."""

    key: tuple[Any, ...]
    days: list[Day]
    cursor: datetime  # where today's share starts
    status: ComponentStatus  # and the status it starts in
    serial: int = field(default_factory=lambda: next(_serials))

    @cached_property
    def sums(self) -> tuple[float, float]:
        return _sums(self.days)


def _advance(
    by_day: dict[date, Day],
    cursor: datetime,
    status: ComponentStatus,
    changes: list[tuple[datetime, ComponentStatus]],
    end: datetime,
) -> tuple[datetime, ComponentStatus]:
    """Add the time from ``cursor`` to ``end`` to the days it spans, status by status."""
    for changed_at, new_status in changes:
        if changed_at > cursor:
            _split(by_day, cursor, min(changed_at, end), status)
            cursor = max(cursor, changed_at)
        status = new_status
    _split(by_day, cursor, end, status)
    return max(cursor, end), status


def compute(
    since: datetime,
    changes: list[tuple[datetime, ComponentStatus]],
    status_at_start: ComponentStatus,
    at: datetime,
    days: int = DAYS,
) -> Uptime:
    """Uptime for one component that exists from ``since``, given its changes after the
    window start (oldest first) and its status when the window opened."""
    closed = _closed_days(since, changes, status_at_start, at, days, ())
    return _with_today(closed, [c for c in changes if c[0] >= _midnight(at)], at)


def _midnight(at: datetime) -> datetime:
    return datetime.combine(at.astimezone(UTC).date(), time(), tzinfo=UTC)


def _closed_days(
    since: datetime,
    changes: list[tuple[datetime, ComponentStatus]],
    opening: ComponentStatus,
    at: datetime,
    days: int,
    key: tuple[Any, ...],
) -> _Closed:
    begin, midnight = window_start(at, days), _midnight(at)
    by_day = {
        (begin + timedelta(days=i)).date(): Day((begin + timedelta(days=i)).date())
        for i in range(days - 1)
    }
    before = [c for c in changes if c[0] < midnight]
    cursor, status = _advance(by_day, max(begin, since), opening, before, midnight)
    return _Closed(key, list(by_day.values()), cursor, status)


def _with_today(
    closed: _Closed, changes: list[tuple[datetime, ComponentStatus]], at: datetime
) -> Uptime:
    today = Day(at.astimezone(UTC).date())
    _advance({today.day: today}, closed.cursor, closed.status, changes, at)
    return Uptime([*closed.days, today], (closed.serial, *closed.sums))


_serials = itertools.count(1)
_closed: dict[str, _Closed] = {}
_before: dict[tuple[Any, ...], dict[str, str]] = {}


def _last_before(begin: datetime) -> dict[str, str]:
    """Each component's last status before ``begin``, read again only when the rows
    before it are not the ones it was read from."""
    change = ComponentStatusChange
    key = (
        begin,
        *db.session.execute(
            select(func.count(change.id), func.max(change.id)).where(change.created_at < begin)
        ).one(),
    )
    found = _before.get(key)
    if found is None:
        last = (
            select(func.max(change.id))
            .where(change.created_at < begin)
            .group_by(change.component_id)
        )
        rows = select(change.component_id, change.new_status).where(change.id.in_(last))
        found = dict(db.session.execute(rows).all())  # type: ignore[arg-type]
        _before.clear()
        _before[key] = found
    return found


def _rows(*where: Any) -> dict[str, list[tuple[datetime, str, str | None]]]:
    change = ComponentStatusChange
    found: dict[str, list[tuple[datetime, str, str | None]]] = defaultdict(list)
    for component_id, created_at, old_status, new_status in db.session.execute(
        select(change.component_id, change.created_at, change.old_status, change.new_status)
        .where(*where)
        .order_by(change.created_at, change.id)
    ):
        found[component_id].append((created_at, new_status, old_status))
    return found


def load_uptime(components: list[Component], at: datetime, days: int = DAYS) -> dict[str, Uptime]:
    """Uptime of every component. The days before today come from what this process
    computed earlier while the rows they are made of are the same (their count and first
    and last ids, read by one grouped query); only today's changes are read every time."""
    begin, midnight = window_start(at, days), _midnight(at)
    change = ComponentStatusChange
    before = _last_before(begin)
    summary = {
        component_id: rest
        for component_id, *rest in db.session.execute(
            select(
                change.component_id, func.count(change.id), func.min(change.id), func.max(change.id)
            )
            .where(change.created_at >= begin, change.created_at < midnight)
            .group_by(change.component_id)
        )
    }
    today = _rows(change.created_at >= midnight, change.created_at <= at)
    keys = {}
    for component in components:
        held = summary.get(component.id)
        first_today = today[component.id][0][1:] if today.get(component.id) else None
        keys[component.id] = (
            begin,
            days,
            _since(component),
            tuple(held) if held else None,
            before.get(component.id),
            # Only when the window holds no change before today does today's first change
            # (or the component's status) say how the window opens.
            None if held else _opening(before.get(component.id), first_today, component.status),
        )
    stale = [c.id for c in components if getattr(_closed.get(c.id), "key", None) != keys[c.id]]
    closed_rows = (
        _rows(
            change.component_id.in_(stale),
            change.created_at >= begin,
            change.created_at < midnight,
        )
        if stale
        else {}
    )
    result = {}
    for component in components:
        try:
            if component.id in stale:
                rows = closed_rows.get(component.id, []) + today.get(component.id, [])
                opening = _opening(
                    before.get(component.id), rows[0][1:] if rows else None, component.status
                )
                history = [(t, ComponentStatus(new)) for t, new, _ in rows]
                if len(_closed) > 4096:
                    _closed.clear()
                _closed[component.id] = _closed_days(
                    _since(component),
                    history,
                    ComponentStatus(opening),
                    at,
                    days,
                    keys[component.id],
                )
            moves = [(t, ComponentStatus(new)) for t, new, _ in today.get(component.id, [])]
            result[component.id] = _with_today(_closed[component.id], moves, at)
        except ValueError:
            # A status no vocabulary knows: the component gets no uptime, so rendering it
            # fails and publishing leaves it out (see quarantine), not the whole page.
            _closed.pop(component.id, None)
            log.warning("component %s has a status history that cannot be read", component.id)
    return result
