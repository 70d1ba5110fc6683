"""Operator actions on incidents. Each call is one transaction: the incident, its update,
component status changes, the audit event and the outbox rows commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from statuspage import outbox
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import workflow
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
    User,
)
from statuspage.models.audit import record
from statuspage.models.types import new_public_id

T = TypeVar("T")


class _Errors:
    """Collects every validation problem so a form shows them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except ValidationError as exc:
            self.errors.update(exc.errors)
            return None

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _load_components(
    requested: Mapping[str, str], errors: _Errors
) -> list[tuple[Component, ComponentStatus]]:
    if not requested:
        return []
    rows = db.session.scalars(
        db.select(Component).where(Component.id.in_(list(requested))).with_for_update()
    ).all()
    by_id = {c.id: c for c in rows}
    chosen = []
    for component_id, status in requested.items():
        component = by_id.get(component_id)
        if component is None:
            errors.errors[f"components.{component_id}"] = "no such component"
            continue
        parsed = errors.check(workflow.parse_component_status, component_id, status)
        if parsed is not None:
            chosen.append((component, parsed))
    return chosen


def _snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "name": incident.name,
        "status": str(incident.status),
        "impact": str(incident.impact),
        "next_update_due": incident.next_update_due.isoformat()
        if incident.next_update_due
        else None,
    }


def _add_update(
    incident: Incident,
    status: IncidentStatus,
    body: str,
    changes: list[tuple[Component, ComponentStatus]],
    actor: User | None,
    notify: bool,
) -> IncidentUpdate:
    at = now()
    update = IncidentUpdate(
        id=new_public_id(),
        incident=incident,
        status=status,
        body=body,
        author_id=actor.id if actor else None,
        deliver_notifications=notify,
        created_at=at,
        display_at=at,
    )
    db.session.add(update)
    for position, (component, new_status) in enumerate(changes):
        old_status = ComponentStatus(component.status)
        update.affected.append(
            AffectedComponent(
                component=component,
                position=position,
                old_status=old_status,
                new_status=new_status,
            )
        )
        if component not in incident.components:
            incident.components.append(component)
        if old_status != new_status:
            component.status = new_status
            db.session.add(
                ComponentStatusChange(
                    component_id=component.id,
                    old_status=old_status,
                    new_status=new_status,
                    cause=ChangeCause.INCIDENT,
                    incident_update=update,
                    created_at=at,
                )
            )
    incident.status = status
    incident.updated_at = at
    if status == IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = at
    incident.resolved_at = at if status == IncidentStatus.RESOLVED else None
    incident.next_update_due = update.next_update_due = workflow.next_update_due(
        Impact(incident.impact), incident.update_interval, status, at
    )
    db.session.flush()
    outbox.create_deliveries(update)
    return update


def open_incident(
    *,
    actor: User | None,
    name: str,
    impact: str,
    body: str,
    status: str = IncidentStatus.INVESTIGATING,
    components: Mapping[str, str] | None = None,
    update_interval: int | None = None,
    notify: bool = True,
) -> Incident:
    """Open an incident with its first public update."""
    errors = _Errors()
    clean_name = errors.check(workflow.check_text, "name", name, workflow.MAX_NAME)
    clean_body = errors.check(workflow.check_text, "body", body, workflow.MAX_BODY)
    parsed_impact = errors.check(workflow.parse_impact, impact)
    parsed_status = errors.check(workflow.parse_status, status, workflow.INCIDENT_STATUSES)
    interval = errors.check(workflow.check_interval, update_interval)
    if parsed_status == IncidentStatus.RESOLVED:
        errors.errors["status"] = "a new incident cannot start resolved"
    changes = _load_components(components or {}, errors)
    try:
        errors.raise_any()
    except ValidationError:
        db.session.rollback()
        raise
    assert clean_name and clean_body and parsed_impact and parsed_status
    at = now()
    incident = Incident(
        id=new_public_id(),
        name=clean_name,
        impact=parsed_impact,
        status=parsed_status,
        update_interval=interval,
        created_at=at,
        started_at=at,
    )
    db.session.add(incident)
    _add_update(incident, parsed_status, clean_body, changes, actor, notify)
    record(actor, "incident.open", "incident", incident.id, None, _snapshot(incident))
    db.session.commit()
    return incident


def post_update(
    *,
    actor: User | None,
    incident_id: str,
    status: str,
    body: str,
    components: Mapping[str, str] | None = None,
    notify: bool = True,
) -> IncidentUpdate:
    """Post a public update; it may move the incident's status and its components."""
    incident = db.session.get(Incident, incident_id, with_for_update=True)
    if incident is None or incident.is_maintenance:
        db.session.rollback()
        raise NotFound(f"incident {incident_id}")
    errors = _Errors()
    clean_body = errors.check(workflow.check_text, "body", body, workflow.MAX_BODY)
    parsed_status = errors.check(workflow.parse_status, status, workflow.INCIDENT_STATUSES)
    changes = _load_components(components or {}, errors)
    try:
        errors.raise_any()
    except ValidationError:
        db.session.rollback()
        raise
    assert clean_body and parsed_status
    before = _snapshot(incident)
    update = _add_update(incident, parsed_status, clean_body, changes, actor, notify)
    record(actor, "incident.update", "incident", incident.id, before, _snapshot(incident))
    db.session.commit()
    return update


def resolve(
    *,
    actor: User | None,
    incident_id: str,
    body: str,
    components: Mapping[str, str] | None = None,
    notify: bool = True,
) -> IncidentUpdate:
    """Resolve in one action: every affected component goes back to operational unless
    ``components`` says otherwise for it."""
    incident = db.session.get(Incident, incident_id)
    if incident is None or incident.is_maintenance:
        raise NotFound(f"incident {incident_id}")
    restored = {c.id: str(ComponentStatus.OPERATIONAL) for c in incident.components}
    restored.update(components or {})
    return post_update(
        actor=actor,
        incident_id=incident_id,
        status=IncidentStatus.RESOLVED,
        body=body,
        components=restored,
        notify=notify,
    )
