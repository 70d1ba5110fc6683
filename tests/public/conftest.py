"""Builders for what the public site shows that the incident service does not write here:
maintenance windows, edited updates, postmortems and past status history."""

from __future__ import annotations

from datetime import datetime, timedelta

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import (
    AffectedComponent,
    ChangeCause,
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    IncidentUpdateRevision,
)
from statuspage.models.types import new_public_id


def maintenance(
    name: str,
    starts_in: timedelta,
    lasts: timedelta,
    status: IncidentStatus,
    components: list[Component],
    body: str = "We will upgrade the database.",
) -> Incident:
    at = now()
    window = at + starts_in
    incident = Incident(
        id=new_public_id(),
        name=name,
        status=status,
        impact=Impact.MAINTENANCE,
        created_at=at - timedelta(days=1),
        updated_at=at,
        started_at=window,
        scheduled_for=window,
        scheduled_until=window + lasts,
    )
    incident.components.extend(components)
    db.session.add(incident)
    update = IncidentUpdate(
        id=new_public_id(),
        incident=incident,
        status=status,
        body=body,
        created_at=at,
        updated_at=at,
        display_at=at,
    )
    db.session.add(update)
    for position, component in enumerate(components):
        update.affected.append(
            AffectedComponent(
                component=component,
                position=position,
                old_status=ComponentStatus.OPERATIONAL,
                new_status=ComponentStatus(component.status),
            )
        )
    db.session.commit()
    return incident


def revise(update: IncidentUpdate, new_body: str) -> None:
    """An operator's correction: the old text becomes a revision, as the service keeps it."""
    at = now()
    db.session.add(IncidentUpdateRevision(update=update, body=update.body, created_at=at))
    update.body = new_body
    update.updated_at = update.incident.updated_at = at
    db.session.commit()


def postmortem(incident: Incident, body: str) -> None:
    incident.postmortem_body = body
    incident.postmortem_published_at = incident.updated_at = now()
    db.session.commit()


def history(component: Component, *changes: tuple[datetime, ComponentStatus]) -> None:
    """Record past status changes of ``component`` (oldest first)."""
    old = ComponentStatus.OPERATIONAL
    for at, new in changes:
        db.session.add(
            ComponentStatusChange(
                component_id=component.id,
                old_status=old,
                new_status=new,
                cause=ChangeCause.MANUAL,
                created_at=at,
            )
        )
        old = new
    component.status = old
    db.session.commit()
