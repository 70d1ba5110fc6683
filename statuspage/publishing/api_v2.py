"""The Statuspage v2 public API documents, with the keys and enums its clients expect."""

from __future__ import annotations

from typing import Any

from statuspage.lib.clock import iso
from statuspage.models import Component, ComponentStatus, Incident, IncidentUpdate
from statuspage.publishing.state import GroupView, PublicState

Doc = dict[str, Any]

INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Partially Degraded Service",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
_COMPONENT_INDICATOR = {
    ComponentStatus.OPERATIONAL: "none",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}
_INDICATOR_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}


def page_doc(state: PublicState) -> Doc:
    return {
        "id": state.page.id,
        "name": state.page.name,
        "url": state.base_url,
        "time_zone": state.page.time_zone,
        "updated_at": iso(state.updated_at),
    }


def status_doc(state: PublicState) -> Doc:
    """The page indicator: the worst of component statuses and open incident impacts."""
    candidates = ["none"]
    candidates += [_COMPONENT_INDICATOR[ComponentStatus(c.status)] for c in state.components]
    candidates += [str(i.impact) for i in state.unresolved]
    indicator = max(candidates, key=_INDICATOR_RANK.__getitem__)
    return {"indicator": indicator, "description": INDICATOR_DESCRIPTIONS[indicator]}


def component_doc(component: Component, page_id: str) -> Doc:
    return {
        "id": component.id,
        "name": component.name,
        "status": str(component.status),
        "created_at": iso(component.created_at),
        "updated_at": iso(component.updated_at),
        "position": component.position,
        "description": component.description,
        "showcase": component.showcase,
        "start_date": component.start_date.isoformat() if component.start_date else None,
        "group_id": component.group_id,
        "page_id": page_id,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def group_doc(view: GroupView, page_id: str) -> Doc:
    group = view.group
    return {
        "id": group.id,
        "name": group.name,
        "status": str(view.status),
        "created_at": iso(group.created_at),
        "updated_at": iso(max([group.updated_at, *(c.updated_at for c in view.members)])),
        "position": group.position,
        "description": group.description,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page_id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [c.id for c in view.members],
    }


def components_list(state: PublicState) -> list[Doc]:
    docs: list[Doc] = []
    for item in state.top_level:
        if isinstance(item, GroupView):
            docs.append(group_doc(item, state.page.id))
            docs.extend(component_doc(c, state.page.id) for c in item.members)
        else:
            docs.append(component_doc(item, state.page.id))
    return docs


def update_doc(update: IncidentUpdate) -> Doc:
    return {
        "id": update.id,
        "status": str(update.status),
        "body": update.body,
        "incident_id": update.incident_id,
        "created_at": iso(update.created_at),
        "updated_at": iso(update.updated_at),
        "display_at": iso(update.display_at),
        "affected_components": [
            {
                "code": a.component.id,
                "name": a.component.display_name,
                "old_status": str(a.old_status),
                "new_status": str(a.new_status),
            }
            for a in update.affected
        ]
        or None,
        "deliver_notifications": update.deliver_notifications,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident_doc(incident: Incident, state: PublicState) -> Doc:
    doc: Doc = {
        "id": incident.id,
        "name": incident.name,
        "status": str(incident.status),
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "monitoring_at": iso(incident.monitoring_at),
        "resolved_at": iso(incident.resolved_at),
        "impact": str(incident.impact),
        "shortlink": f"{state.base_url}/incidents/{incident.id}",
        "started_at": iso(incident.started_at),
        "page_id": state.page.id,
        "incident_updates": [update_doc(u) for u in incident.updates],
        "components": [component_doc(c, state.page.id) for c in incident.components],
    }
    if incident.is_maintenance:
        doc["scheduled_for"] = iso(incident.scheduled_for)
        doc["scheduled_until"] = iso(incident.scheduled_until)
    return doc


def documents(state: PublicState) -> dict[str, Doc]:
    """Every v2 document, keyed by its path under ``api/v2/``."""
    page = page_doc(state)
    status = status_doc(state)
    components = components_list(state)
    unresolved = [incident_doc(i, state) for i in state.unresolved]
    active = [incident_doc(m, state) for m in state.active_maintenances]
    upcoming = [incident_doc(m, state) for m in state.upcoming_maintenances]
    return {
        "summary.json": {
            "page": page,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": active + upcoming,
            "status": status,
        },
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": components},
        "incidents.json": {
            "page": page,
            "incidents": [incident_doc(i, state) for i in state.recent_incidents],
        },
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {
            "page": page,
            "scheduled_maintenances": [incident_doc(m, state) for m in state.recent_maintenances],
        },
        "scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": upcoming},
        "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
    }
