"""Everything a snapshot shows, loaded in a handful of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import selectinload

from statuspage.extensions import db
from statuspage.models import (
    AffectedComponent,
    Component,
    ComponentGroup,
    ComponentStatus,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Page,
)

RECENT_INCIDENTS = 50

# Worst first: the order in which a status dominates a group or the whole page.
SEVERITY = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}


@dataclass
class GroupView:
    group: ComponentGroup
    members: list[Component]

    @property
    def status(self) -> ComponentStatus:
        statuses = [ComponentStatus(c.status) for c in self.members]
        return max(statuses, key=SEVERITY.__getitem__, default=ComponentStatus.OPERATIONAL)


@dataclass
class PublicState:
    page: Page
    base_url: str
    groups: list[GroupView]
    ungrouped: list[Component]
    incidents: list[Incident]  # latest first, maintenances excluded
    maintenances: list[Incident]  # soonest first
    top_level: list[GroupView | Component] = field(default_factory=list)

    @property
    def components(self) -> list[Component]:
        return [c for g in self.groups for c in g.members] + self.ungrouped

    @property
    def unresolved(self) -> list[Incident]:
        return [i for i in self.incidents if i.is_open]

    @property
    def active_maintenances(self) -> list[Incident]:
        return [
            m
            for m in self.maintenances
            if m.status in (IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING)
        ]

    @property
    def upcoming_maintenances(self) -> list[Incident]:
        return [m for m in self.maintenances if m.status == IncidentStatus.SCHEDULED]


def _update_options() -> list:
    return [
        selectinload(Incident.components).selectinload(Component.group),
        selectinload(Incident.updates)
        .selectinload(IncidentUpdate.affected)
        .selectinload(AffectedComponent.component)
        .selectinload(Component.group),
        selectinload(Incident.updates).selectinload(IncidentUpdate.revisions),
    ]


def load_state(base_url: str) -> PublicState:
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
    incidents = db.session.scalars(
        db.select(Incident)
        .where(Incident.impact != Impact.MAINTENANCE)
        .options(*_update_options())
        .order_by(Incident.created_at.desc())
        .limit(RECENT_INCIDENTS)
    ).all()
    maintenances = db.session.scalars(
        db.select(Incident)
        .where(Incident.impact == Impact.MAINTENANCE)
        .options(*_update_options())
        .order_by(Incident.scheduled_for.desc())
        .limit(RECENT_INCIDENTS)
    ).all()
    group_views = [GroupView(g, list(g.components)) for g in groups]
    top: list[GroupView | Component] = [*group_views, *ungrouped]
    top.sort(key=lambda x: x.group.position if isinstance(x, GroupView) else x.position)
    return PublicState(
        page=page,
        base_url=base_url,
        groups=group_views,
        ungrouped=list(ungrouped),
        incidents=list(incidents),
        maintenances=list(maintenances),
        top_level=top,
    )
