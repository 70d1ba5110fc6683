"""MessageFacts: the one channel-neutral view of an update.

Every channel renders from these facts, so the page, feeds, social posts and emails can
never disagree about status, components, next update time or the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from statuspage.models import ComponentStatus, Impact, IncidentStatus, IncidentUpdate


@dataclass(frozen=True)
class ComponentFact:
    id: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus


@dataclass(frozen=True)
class MessageFacts:
    incident_id: str
    incident_name: str
    impact: Impact
    update_id: str
    status: IncidentStatus
    body: str
    components: tuple[ComponentFact, ...]
    next_update_due: datetime | None
    created_at: datetime
    url: str
    is_first: bool

    @property
    def status_label(self) -> str:
        return self.status.label


def incident_url(incident_id: str) -> str:
    return f"{current_app.config['BASE_URL']}/incidents/{incident_id}"


def build_facts(update: IncidentUpdate) -> MessageFacts:
    incident = update.incident
    first = min(incident.updates, key=lambda u: u.created_at)
    return MessageFacts(
        incident_id=incident.id,
        incident_name=incident.name,
        impact=Impact(incident.impact),
        update_id=update.id,
        status=IncidentStatus(update.status),
        body=update.body,
        components=tuple(
            ComponentFact(
                id=a.component.id,
                name=a.component.display_name,
                old_status=ComponentStatus(a.old_status),
                new_status=ComponentStatus(a.new_status),
            )
            for a in update.affected
        ),
        next_update_due=update.next_update_due,
        created_at=update.created_at,
        url=f"{incident_url(incident.id)}#update-{update.id}",
        is_first=first.id == update.id,
    )
