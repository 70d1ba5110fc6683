"""Everything a snapshot shows, loaded in a handful of queries at render time."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from itertools import groupby
from typing import Any

from flask_babel import gettext
from sqlalchemy.orm import noload, selectinload

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Page,
    Upstream,
)
from statuspage.publishing.uptime import Uptime, load_uptime

RECENT_INCIDENTS = 50
PAST_DAYS = 7

# The order in which a status dominates a group or the whole page.
SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}
ACTIVE_MAINTENANCE = (IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING)


def worst(statuses: list[ComponentStatus]) -> ComponentStatus:
    return max(statuses, key=SEVERITY.__getitem__, default=ComponentStatus.OPERATIONAL)


def shown(component: Component) -> bool:
    """Statuspage's ``only_show_if_degraded``: hidden from the page while operational."""
    return not component.only_show_if_degraded or component.status != ComponentStatus.OPERATIONAL


@dataclass
class GroupView:
    group: ComponentGroup
    members: list[Component]

    @property
    def status(self) -> ComponentStatus:
        return worst([ComponentStatus(c.status) for c in self.members])

    @property
    def visible(self) -> list[Component]:
        return [c for c in self.members if shown(c)]


@dataclass
class Month:
    key: str  # "2026-11"
    first: date
    incidents: list[Incident]  # may be left empty where only the label and count are shown
    count: int = -1

    def __post_init__(self) -> None:
        if self.count < 0:
            self.count = len(self.incidents)

    @property
    def label(self) -> str:
        return self.first.strftime("%B %Y")

    @classmethod
    def named(cls, key: str, count: int, incidents: list[Incident] | None = None) -> Month:
        year, month = key.split("-")
        return cls(key, date(int(year), int(month), 1), incidents or [], count)


@dataclass
class PublicState:
    page: Page
    base_url: str
    at: datetime
    groups: list[GroupView]
    ungrouped: list[Component]
    incidents: list[Incident]  # every incident, newest first, maintenances excluded
    maintenances: list[Incident]  # every maintenance, latest window first
    uptime: dict[str, Uptime] = field(default_factory=dict)
    top_level: list[GroupView | Component] = field(default_factory=list)
    # Followed vendor pages with the components shown: apart from ours, never in our status.
    third_party: list[Upstream] = field(default_factory=list)

    @cached_property
    def components(self) -> list[Component]:
        return [c for g in self.groups for c in g.members] + self.ungrouped

    @cached_property
    def updated_at(self) -> datetime:
        """When anything shown last changed (not when it was rendered), so an unchanged
        page renders to the same bytes and keeps its ETag. Computed once per render."""
        stamps = [self.page.updated_at]
        stamps += [c.updated_at for c in self.components]
        stamps += [g.group.updated_at for g in self.groups]
        stamps += [i.updated_at for i in self.everything[:1]]
        stamps += [i.updated_at for i in self.unresolved + self.recent_maintenances]
        stamps += [u.updated_at for u in self.third_party]
        return max(stamps)

    @property
    def title(self) -> str:
        """ "Acme status", or just the page name when it already says so (in the language
        being rendered, so not cached)."""
        name = self.page.name
        return name if "status" in name.lower() else gettext("%(name)s status", name=name)

    @cached_property
    def recent_incidents(self) -> list[Incident]:
        return self.incidents[:RECENT_INCIDENTS]

    @cached_property
    def recent_maintenances(self) -> list[Incident]:
        return self.maintenances[:RECENT_INCIDENTS]

    @cached_property
    def unresolved(self) -> list[Incident]:
        return [i for i in self.incidents if i.is_open]

    @cached_property
    def active_maintenances(self) -> list[Incident]:
        return sorted(
            (m for m in self.maintenances if m.status in ACTIVE_MAINTENANCE),
            key=lambda m: m.scheduled_for,
        )

    @cached_property
    def upcoming_maintenances(self) -> list[Incident]:
        return sorted(
            (m for m in self.maintenances if m.status == IncidentStatus.SCHEDULED),
            key=lambda m: m.scheduled_for,
        )

    @cached_property
    def everything(self) -> list[Incident]:
        return [*self.incidents, *self.maintenances]

    def without(self, incident_ids: Set[str], component_ids: Set[str]) -> PublicState:
        """This state with some incidents and components left out (a fresh object, so
        nothing computed from the full state carries over)."""
        kept = [c for c in self.components if c.id not in component_ids]
        groups = [
            GroupView(g.group, [c for c in g.members if c.id not in component_ids])
            for g in self.groups
        ]
        state = _assembled(
            self.page,
            self.base_url,
            self.at,
            [g for g in groups if g.members or not g.group.components],
            [c for c in self.ungrouped if c.id not in component_ids],
            [i for i in self.everything if i.id not in incident_ids],
            {c.id: self.uptime[c.id] for c in kept if c.id in self.uptime},
        )
        state.third_party = self.third_party
        return state

    @cached_property
    def past_days(self) -> list[tuple[date, list[Incident]]]:
        """The last few days, each with the closed incidents and maintenances that began on
        it (open ones are shown in full above). Computed once for every copy of the page."""
        today = self.at.date()
        by_day: dict[date, list[Incident]] = {
            today - timedelta(days=i): [] for i in range(PAST_DAYS)
        }
        for incident in self.everything:
            if incident.is_open:
                continue
            day = started(incident).date()
            if day in by_day:
                by_day[day].append(incident)
        return [(day, sorted(items, key=started, reverse=True)) for day, items in by_day.items()]

    def months(self) -> list[Month]:
        """Every month with at least one incident or maintenance, newest first."""
        return self.months_of(self.everything)

    @staticmethod
    def months_of(incidents: list[Incident]) -> list[Month]:
        """The months of ``incidents``, newest first, each listing its own."""
        ordered = sorted(incidents, key=history_order, reverse=True)
        return [
            Month(key, started(items[0]).date().replace(day=1), items)
            for key, group in groupby(ordered, key=month_key)
            for items in [list(group)]
        ]


def started(incident: Incident) -> datetime:
    """When it happened, for history: the window start of a maintenance."""
    return incident.scheduled_for or incident.started_at or incident.created_at


def month_key(incident: Incident) -> str:
    return started(incident).strftime("%Y-%m")


def history_order(incident: Incident) -> tuple[datetime, datetime, str]:
    """A total order, so a month lists its incidents alike however they were loaded."""
    return (started(incident), incident.created_at, incident.id)


def _update_options() -> list:
    # Components and groups are loaded first, so many-to-one references to them resolve
    # from the session's identity map without a query.
    return [
        selectinload(Incident.components),
        selectinload(Incident.updates).selectinload(IncidentUpdate.affected),
        selectinload(Incident.updates).selectinload(IncidentUpdate.revisions),
    ]


def load_incidents(
    ids: Set[str] | None = None, *where: Any, named: bool = False, again: bool = False
) -> list[Incident]:
    """Incidents with everything their pages show, newest first: those of ``ids`` (every
    one when None) that match ``where``. ``named``: without their updates, for lists that
    show an incident by its name and times only. ``again``: also where this session has
    loaded them already (without their updates, maybe)."""
    options = [selectinload(Incident.components), noload(Incident.updates)] if named else None
    query = db.select(Incident).options(*(options or _update_options())).where(*where)
    if ids is not None:
        query = query.where(Incident.id.in_(ids))
    if again:
        query = query.execution_options(populate_existing=True)
    return list(db.session.scalars(query.order_by(Incident.created_at.desc())).all())


def load_state(
    base_url: str,
    at: datetime | None = None,
    incident_ids: Set[str] | None = None,
    named_ids: Set[str] = frozenset(),
) -> PublicState:
    """The state at ``at``; with ``incident_ids``, only those incidents (a caller that
    renders part of the site names every incident the part it renders shows), and
    ``named_ids`` without their updates (it shows them by name only)."""
    at = at or now()
    page = Page.get()
    groups = db.session.scalars(
        db.select(ComponentGroup)
        .options(selectinload(ComponentGroup.components))
        .order_by(ComponentGroup.position, ComponentGroup.name)
    ).all()
    ungrouped = db.session.scalars(
        db.select(Component)
        .where(Component.group_id.is_(None))
        .order_by(Component.position, Component.name)
    ).all()
    everything = load_incidents(incident_ids)
    if named_ids:
        everything += load_incidents(named_ids, named=True)
        everything.sort(key=lambda i: i.created_at, reverse=True)
    group_views = [GroupView(g, list(g.components)) for g in groups]
    state = _assembled(page, base_url, at, group_views, list(ungrouped), list(everything), {})
    state.uptime = load_uptime(state.components, at)
    state.third_party = [
        u
        for u in db.session.scalars(
            db.select(Upstream)
            .options(selectinload(Upstream.components))
            .order_by(Upstream.name, Upstream.id)
        )
        if u.followed
    ]
    return state


def _assembled(
    page: Page,
    base_url: str,
    at: datetime,
    groups: list[GroupView],
    ungrouped: list[Component],
    everything: list[Incident],
    uptime: dict[str, Uptime],
) -> PublicState:
    """A state from its rows: incidents apart from maintenances, groups and ungrouped
    components in page order."""
    incidents = [i for i in everything if i.impact != Impact.MAINTENANCE]
    maintenances = sorted(
        (i for i in everything if i.impact == Impact.MAINTENANCE),
        key=lambda m: m.scheduled_for or m.created_at,
        reverse=True,
    )
    top: list[GroupView | Component] = [*groups, *ungrouped]
    top.sort(key=lambda x: x.group.position if isinstance(x, GroupView) else x.position)
    return PublicState(
        page=page,
        base_url=base_url,
        at=at,
        groups=groups,
        ungrouped=ungrouped,
        incidents=incidents,
        maintenances=maintenances,
        uptime=uptime,
        top_level=top,
    )
