"""Operator actions on incidents. Each call is one transaction: the incident, its update,
component status changes, the audit event and the outbox rows commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l

from statuspage import outbox
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.i18n import speaking
from statuspage.incidents import intervals, workflow
from statuspage.incidents.republish import request_publish
from statuspage.incidents.workflow import Conflict
from statuspage.lib.clock import iso, now
from statuspage.lib.timefmt import clock_time
from statuspage.models import (
    AffectedComponent,
    ChangeCause,
    Channel,
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    IncidentUpdateRevision,
    Page,
    User,
)
from statuspage.models.audit import record
from statuspage.models.types import PUBLIC_ID, new_public_id
from statuspage.text_rules import check_line, check_text, storable

T = TypeVar("T")
Changes = list[tuple[Component, ComponentStatus]]


class Errors:
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
        """Raise the collected errors; the transaction is rolled back so nothing is half-written."""
        if self.errors:
            db.session.rollback()
            raise ValidationError(self.errors)


def load_components(requested: Mapping[str, str], errors: Errors) -> Changes:
    if not requested:
        return []
    if not isinstance(requested, Mapping):
        errors.errors["components"] = "must map component ids to statuses"
        return []
    rows = db.session.scalars(
        db.select(Component).where(
            Component.id.in_([str(k) for k in requested if storable(str(k))])
        )
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


def load_channels(requested: Sequence[int] | None, errors: Errors) -> list[int] | None:
    """The chosen announcing channels, checked to exist; None (all of them) stays None."""
    if requested is None:
        return None
    announcing = {c.id for c in Channel.announcing()}
    unknown = [str(i) for i in requested if i not in announcing]
    if unknown:
        errors.errors["channels"] = f"no announcing channel {', '.join(unknown)}"
    return sorted(set(requested) & announcing)


def fresh_id(field: str, value: str | None) -> str | None:
    """An id chosen before the update exists (the console previews links to it): of the
    public form and used by no update yet."""
    if value is None:
        return None
    if not isinstance(value, str) or not PUBLIC_ID.fullmatch(value):
        raise ValidationError({field: "must be 12 lowercase letters or digits"})
    if db.session.get(IncidentUpdate, value) is not None:
        raise ValidationError({field: "this update was already posted"})
    return value


def snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "name": incident.name,
        "status": str(incident.status),
        "impact": str(incident.impact),
        "next_update_due": iso(incident.next_update_due),
    }


def set_component_status(
    component: Component,
    new_status: ComponentStatus,
    cause: ChangeCause,
    at: datetime,
    update: IncidentUpdate | None = None,
) -> None:
    """Move a component and append the change to its history (a no-op if unchanged)."""
    old_status = ComponentStatus(component.status)
    if old_status == new_status:
        return
    component.status = new_status
    component.updated_at = at
    db.session.add(
        ComponentStatusChange(
            component_id=component.id,
            old_status=old_status,
            new_status=new_status,
            cause=cause,
            incident_update=update,
            created_at=at,
        )
    )


def promise(incident: Incident, status: IncidentStatus, at: datetime) -> datetime | None:
    """When an update posted at ``at`` with ``status`` promises the next one: the
    incident's own interval, else the installation's for its impact and status."""
    minutes = intervals.minutes_for(Impact(incident.impact), status, incident.update_interval)
    return workflow.next_update_due(minutes, at)


def write_update(
    incident: Incident,
    status: IncidentStatus,
    body: str,
    changes: Changes,
    actor: User | None,
    notify: bool,
    cause: ChangeCause = ChangeCause.INCIDENT,
    channels: list[int] | None = None,
    at: datetime | None = None,
    update_id: str | None = None,
) -> IncidentUpdate:
    """Add one public update with its component changes and outbox rows (no commit).

    ``channels`` narrows the announcing channels it goes to; None means all of them.
    ``at`` is the update's time, given by callers whose text names the promise it makes.
    ``update_id`` is the id the console's preview linked to (checked by ``fresh_id``).
    """
    at = at or now()
    update = IncidentUpdate(
        id=update_id or new_public_id(),
        incident=incident,
        status=status,
        body=body,
        author_id=actor.id if actor else None,
        deliver_notifications=notify,
        notify_channel_ids=channels,
        created_at=at,
        updated_at=at,
        display_at=at,
    )
    db.session.add(update)
    # No autoflush: the update row is inserted once, complete, so its updated_at stays
    # equal to created_at until someone edits it.
    with db.session.no_autoflush:
        for position, (component, new_status) in enumerate(changes):
            update.affected.append(
                AffectedComponent(
                    component=component,
                    position=position,
                    old_status=ComponentStatus(component.status),
                    new_status=new_status,
                )
            )
            if component not in incident.components:
                incident.components.append(component)
            set_component_status(component, new_status, cause, at, update)
    incident.status = status
    incident.updated_at = at
    if incident.first_posted_at is None:
        incident.first_posted_at = at
    if status == IncidentStatus.MONITORING and incident.monitoring_at is None:
        incident.monitoring_at = at
    incident.resolved_at = at if status in workflow.CLOSED_STATUSES else None
    incident.next_update_due = update.next_update_due = promise(incident, status, at)
    # A new promise replaces the old one: its reminder and overdue flag start afresh.
    incident.reminded_at = incident.overdue_at = None
    db.session.flush()
    outbox.create_deliveries(update)
    return update


# The earlier name, still used by tests/outbox to write an update without committing.
_add_update = write_update


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
    channels: Sequence[int] | None = None,
    problem_started_at: datetime | None = None,
    incident_id: str | None = None,
    update_id: str | None = None,
) -> Incident:
    """Open an incident with its first public update.

    ``problem_started_at`` is when the problem began, if known (time to first post);
    ``incident_id`` is given by a draft that becomes this incident, in the caller's
    transaction, which this call commits."""
    errors = Errors()
    clean_name = errors.check(check_line, "name", name, workflow.MAX_NAME)
    clean_body = errors.check(check_text, "body", body, workflow.MAX_BODY)
    parsed_impact = errors.check(workflow.parse_impact, impact)
    parsed_status = errors.check(workflow.parse_status, status, workflow.INCIDENT_STATUSES)
    interval = errors.check(workflow.check_interval, update_interval)
    if parsed_status == IncidentStatus.RESOLVED:
        errors.errors["status"] = "a new incident cannot start resolved"
    at = now()
    if problem_started_at is not None and problem_started_at > at:
        errors.errors["problem_started_at"] = "must not be in the future"
    changes = load_components(components or {}, errors)
    chosen = load_channels(channels, errors)
    fresh = errors.check(fresh_id, "update_id", update_id)
    errors.raise_any()
    assert clean_name and clean_body and parsed_impact and parsed_status
    incident = Incident(
        id=incident_id or new_public_id(),
        name=clean_name,
        impact=parsed_impact,
        status=parsed_status,
        update_interval=interval,
        created_at=at,
        started_at=at,
        problem_started_at=problem_started_at,
    )
    db.session.add(incident)
    write_update(
        incident,
        parsed_status,
        clean_body,
        changes,
        actor,
        notify,
        channels=chosen,
        update_id=fresh,
    )
    record(actor, "incident.open", "incident", incident.id, None, snapshot(incident))
    db.session.commit()
    return incident


def _locked_incident(incident_id: str) -> Incident:
    incident = db.session.get(Incident, incident_id, with_for_update=True)
    if incident is None:
        db.session.rollback()
        raise NotFound(f"incident {incident_id}")
    return incident


def post_update(
    *,
    actor: User | None,
    incident_id: str,
    status: str,
    body: str,
    components: Mapping[str, str] | None = None,
    notify: bool = True,
    channels: Sequence[int] | None = None,
    update_id: str | None = None,
) -> IncidentUpdate:
    """Post a public update; it may move the incident's status and its components.

    ``components`` holds only the changes the operator made. An update that closes an open
    incident returns every affected component to operational unless ``components`` says
    otherwise for it, whichever path it came by (form, button, API, draft): resolving has
    one meaning. Maintenances take the maintenance vocabulary (in progress, verifying,
    completed).
    """
    incident = _locked_incident(incident_id)
    allowed = (
        workflow.MAINTENANCE_STATUSES if incident.is_maintenance else workflow.INCIDENT_STATUSES
    )
    cause = ChangeCause.MAINTENANCE if incident.is_maintenance else ChangeCause.INCIDENT
    errors = Errors()
    clean_body = errors.check(check_text, "body", body, workflow.MAX_BODY)
    parsed_status = errors.check(workflow.parse_status, status, allowed)
    if parsed_status in workflow.CLOSED_STATUSES and incident.is_open:
        components = restored_components(incident, components)
    changes = load_components(components or {}, errors)
    chosen = load_channels(channels, errors)
    fresh = errors.check(fresh_id, "update_id", update_id)
    errors.raise_any()
    assert clean_body and parsed_status
    before = snapshot(incident)
    update = write_update(
        incident, parsed_status, clean_body, changes, actor, notify, cause, chosen, update_id=fresh
    )
    record(actor, "incident.update", "incident", incident.id, before, snapshot(incident))
    db.session.commit()
    return update


# What "no news yet" says in each state; %(due)s is the time of the next promise.
STILL = {
    IncidentStatus.INVESTIGATING: _l("We are still investigating; next update by %(due)s."),
    IncidentStatus.IDENTIFIED: _l("We are still working on a fix; next update by %(due)s."),
    IncidentStatus.MONITORING: _l("We are still monitoring the fix; next update by %(due)s."),
}


def no_news_text(incident: Incident, at: datetime) -> str | None:
    """The "no news yet" update an incident would post at ``at`` (None where it has none:
    maintenances, closed incidents), in the page's default language: it is stored as the
    update's text, which every channel and page then quotes as written."""
    wording = STILL.get(IncidentStatus(incident.status))
    if wording is None or incident.is_maintenance:
        return None
    due = promise(incident, IncidentStatus(incident.status), at)
    if due is None:
        return None
    with speaking(Page.get().default_language):
        return str(wording) % {"due": clock_time(due)}


def post_no_news(*, actor: User | None, incident_id: str, notify: bool = True) -> IncidentUpdate:
    """Keep the cadence promise in one action: the status stays, nothing else moves, and
    the text names the next promise (the same time every channel quotes)."""
    incident = _locked_incident(incident_id)
    at = now()
    body = no_news_text(incident, at)
    if body is None:
        db.session.rollback()
        raise Conflict("only an open incident posts “no news yet”")
    before = snapshot(incident)
    update = write_update(incident, IncidentStatus(incident.status), body, [], actor, notify, at=at)
    record(actor, "incident.update", "incident", incident.id, before, snapshot(incident))
    db.session.commit()
    return update


def restored_components(incident: Incident, chosen: Mapping[str, str] | None) -> dict[str, str]:
    """What closing ``incident`` does to components: every affected one back to
    operational, except those the operator set otherwise."""
    restored = {c.id: str(ComponentStatus.OPERATIONAL) for c in incident.components}
    restored.update(chosen or {})
    return restored


def resolve(
    *,
    actor: User | None,
    incident_id: str,
    body: str,
    components: Mapping[str, str] | None = None,
    notify: bool = True,
    channels: Sequence[int] | None = None,
) -> IncidentUpdate:
    """Resolve in one action (a maintenance is completed): ``post_update`` with the closing
    status, so affected components return to operational unless ``components`` says
    otherwise for them."""
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    final = IncidentStatus.COMPLETED if incident.is_maintenance else IncidentStatus.RESOLVED
    return post_update(
        actor=actor,
        incident_id=incident_id,
        status=final,
        body=body,
        components=components,
        notify=notify,
        channels=channels,
    )


def edit_update(*, actor: User | None, update_id: str, body: str) -> IncidentUpdate:
    """Correct the text of a published update. The earlier text is kept as a revision the
    public page shows; the page is republished. Channels that already carried the old text
    are not re-sent: a correction that matters to them is a new update."""
    update = db.session.get(IncidentUpdate, update_id, with_for_update=True)
    if update is None:
        db.session.rollback()
        raise NotFound(f"update {update_id}")
    errors = Errors()
    clean_body = errors.check(check_text, "body", body, workflow.MAX_BODY)
    errors.raise_any()
    assert clean_body
    if clean_body == update.body:
        db.session.rollback()
        return update
    at = now()
    db.session.add(
        IncidentUpdateRevision(
            update=update,
            body=update.body,
            author_id=actor.id if actor else None,
            created_at=at,
        )
    )
    before = {"body": update.body}
    update.body = clean_body
    update.updated_at = at
    update.incident.updated_at = at
    record(
        actor, "incident.update_edit", "incident_update", update.id, before, {"body": clean_body}
    )
    request_publish(f"update {update.id} edited")
    db.session.commit()
    return update


def update_details(
    *, actor: User | None, incident_id: str, name: str | None = None, impact: str | None = None
) -> Incident:
    """Rename an incident or change its impact without a new public update."""
    incident = _locked_incident(incident_id)
    errors = Errors()
    clean_name = (
        errors.check(check_line, "name", name, workflow.MAX_NAME) if name is not None else None
    )
    parsed_impact = errors.check(workflow.parse_impact, impact) if impact is not None else None
    if parsed_impact is not None and incident.is_maintenance:
        errors.errors["impact"] = "a maintenance has no impact level"
    errors.raise_any()
    before = snapshot(incident)
    if clean_name and clean_name != incident.name:
        incident.name = clean_name
    if parsed_impact and parsed_impact != incident.impact:
        incident.impact = parsed_impact
    if snapshot(incident) == before:
        db.session.rollback()
        return incident
    incident.updated_at = now()
    record(actor, "incident.edit", "incident", incident.id, before, snapshot(incident))
    request_publish(f"incident {incident.id} edited")
    db.session.commit()
    return incident


def publish_postmortem(*, actor: User | None, incident_id: str, body: str) -> Incident:
    """Attach (or revise) the postmortem of a resolved incident and republish its page."""
    incident = _locked_incident(incident_id)
    if incident.is_open:
        db.session.rollback()
        raise Conflict("a postmortem can be published once the incident is resolved")
    errors = Errors()
    clean_body = errors.check(check_text, "postmortem_body", body, workflow.MAX_BODY)
    errors.raise_any()
    assert clean_body
    at = now()
    before = {"postmortem_body": incident.postmortem_body}
    incident.postmortem_body = clean_body
    if incident.postmortem_published_at is None:
        incident.postmortem_published_at = at
    if not incident.is_maintenance:
        incident.status = IncidentStatus.POSTMORTEM  # Statuspage's status once it has one
    incident.updated_at = at
    record(
        actor,
        "incident.postmortem",
        "incident",
        incident.id,
        before,
        {"postmortem_body": clean_body},
    )
    request_publish(f"postmortem of {incident.id}")
    db.session.commit()
    return incident


def set_update_interval(*, actor: User | None, incident_id: str, minutes: int | None) -> Incident:
    """Change how often this incident promises updates (None: the impact's default).

    The promise already published stands; the new interval applies from the next update,
    so no channel is left quoting a time that silently moved.
    """
    incident = _locked_incident(incident_id)
    errors = Errors()
    interval = errors.check(workflow.check_interval, minutes)
    if incident.is_maintenance:
        errors.errors["update_interval"] = "a maintenance has no update cadence"
    errors.raise_any()
    before = {"update_interval": incident.update_interval}
    if before["update_interval"] == interval:
        db.session.rollback()
        return incident
    incident.update_interval = interval
    record(
        actor, "incident.interval", "incident", incident.id, before, {"update_interval": interval}
    )
    db.session.commit()
    return incident
