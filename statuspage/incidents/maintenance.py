"""Scheduled maintenance: planned by an operator, then moved on time by the beat.

A maintenance is an ``Incident`` with impact "maintenance" and ``scheduled_for`` set, as
in Statuspage. The only public posts the system makes by itself are these transitions,
and only because an operator scheduled them with the automatic flags on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import notices, workflow
from statuspage.incidents.republish import request_publish
from statuspage.incidents.service import Errors, snapshot, write_update
from statuspage.lib.clock import now
from statuspage.lib.timefmt import human
from statuspage.models import (
    ChangeCause,
    Component,
    ComponentStatus,
    Impact,
    Incident,
    IncidentStatus,
    User,
)
from statuspage.models.audit import record
from statuspage.models.types import new_public_id
from statuspage.text_rules import check_line, check_text, storable

# Statuspage's wording for the automatic transitions.
IN_PROGRESS_BODY = (
    "Scheduled maintenance is currently in progress. We will provide updates as necessary."
)
COMPLETED_BODY = "The scheduled maintenance has been completed."
CANCELLED_BODY = "This maintenance has been cancelled."
ACTIVE = (IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING)
MIN_YEAR, MAX_YEAR = 2000, 9000
YEAR_PATTERN = "^(?:[2-8][0-9]{3}|9000)-"  # MIN_YEAR to MAX_YEAR, for the OpenAPI document
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:(?P<second>[0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
EXAMPLE = "2030-01-01T10:00:00Z"


def _check_window(
    scheduled_for: datetime | None, scheduled_until: datetime | None, errors: Errors
) -> None:
    if scheduled_for is None:
        errors.errors["scheduled_for"] = "is required"
    if scheduled_until is None:
        errors.errors["scheduled_until"] = "is required"
    if scheduled_for and scheduled_until and scheduled_until <= scheduled_for:
        errors.errors["scheduled_until"] = "must be after scheduled_for"


def schedule(
    *,
    actor: User | None,
    name: str,
    body: str,
    scheduled_for: datetime | None,
    scheduled_until: datetime | None,
    components: Sequence[str] = (),
    auto_in_progress: bool = True,
    auto_completed: bool = True,
    notify: bool = True,
) -> Incident:
    """Announce a maintenance window; its components are named now and moved when it starts."""
    errors = Errors()
    clean_name = errors.check(check_line, "name", name, workflow.MAX_NAME)
    clean_body = errors.check(check_text, "body", body, workflow.MAX_BODY)
    _check_window(scheduled_for, scheduled_until, errors)
    ids = [str(c) for c in components]
    known = [i for i in ids if storable(i)]
    rows = db.session.scalars(select(Component).where(Component.id.in_(known))).all()
    missing = set(ids) - {c.id for c in rows}
    for component_id in sorted(missing):
        errors.errors[f"components.{component_id}"] = "no such component"
    errors.raise_any()
    assert clean_name and clean_body and scheduled_for and scheduled_until
    at = now()
    incident = Incident(
        id=new_public_id(),
        name=clean_name,
        impact=Impact.MAINTENANCE,
        status=IncidentStatus.SCHEDULED,
        created_at=at,
        started_at=scheduled_for,
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        scheduled_auto_in_progress=auto_in_progress,
        scheduled_auto_completed=auto_completed,
    )
    db.session.add(incident)
    order = {component_id: i for i, component_id in enumerate(ids)}
    named = [(c, ComponentStatus(c.status)) for c in sorted(rows, key=lambda c: order[c.id])]
    write_update(
        incident,
        IncidentStatus.SCHEDULED,
        clean_body,
        named,
        actor,
        notify,
        ChangeCause.MAINTENANCE,
    )
    record(actor, "maintenance.schedule", "incident", incident.id, None, _snapshot(incident))
    db.session.commit()
    return incident


def moved_message(scheduled_for: datetime, scheduled_until: datetime) -> str:
    """The announcement of a moved window when the operator writes none."""
    window = f"{human(scheduled_for)} – {human(scheduled_until)}"
    return f"This maintenance has been rescheduled to {window}."


def reschedule(
    *,
    actor: User | None,
    incident_id: str,
    scheduled_for: datetime | None,
    scheduled_until: datetime | None,
    announcement: str | None = None,
    notify: bool = True,
) -> Incident:
    """Move a window that has not finished yet.

    With an ``announcement`` the move is also an update, so the feeds, social threads and
    subscribers that were told the old window hear of the new one; without, only the page
    and the API change (Statuspage's API behaves so).
    """
    incident = db.session.get(Incident, incident_id, with_for_update=True)
    if incident is None or not incident.is_maintenance:
        db.session.rollback()
        raise NotFound(f"maintenance {incident_id}")
    errors = Errors()
    _check_window(scheduled_for, scheduled_until, errors)
    if not incident.is_open:
        errors.errors["scheduled_for"] = "the maintenance is already completed"
    body = None
    if announcement is not None:
        body = errors.check(check_text, "body", announcement, workflow.MAX_BODY)
    errors.raise_any()
    before = _snapshot(incident)
    if (scheduled_for, scheduled_until) != (incident.scheduled_for, incident.scheduled_until):
        incident.calendar_sequence += 1
    incident.scheduled_for, incident.scheduled_until = scheduled_for, scheduled_until
    if incident.status == IncidentStatus.SCHEDULED:
        incident.started_at = scheduled_for  # type: ignore[assignment]
    incident.updated_at = now()
    record(actor, "maintenance.reschedule", "incident", incident.id, before, _snapshot(incident))
    if body:
        status = IncidentStatus(incident.status)
        write_update(incident, status, body, [], actor, notify, ChangeCause.MAINTENANCE)
    else:
        request_publish(f"maintenance {incident.id} rescheduled")
    db.session.commit()
    return incident


def cancel(
    *,
    actor: User | None,
    incident_id: str,
    announcement: str | None = None,
    notify: bool = True,
) -> Incident:
    """Call off a window that has not begun: it is completed with an announcement (its
    components were never put under maintenance) and calendars show it cancelled."""
    incident = db.session.get(Incident, incident_id, with_for_update=True)
    if incident is None or not incident.is_maintenance:
        db.session.rollback()
        raise NotFound(f"maintenance {incident_id}")
    errors = Errors()
    if incident.status != IncidentStatus.SCHEDULED:
        errors.errors["status"] = "only a maintenance that has not begun can be cancelled"
    body = errors.check(check_text, "body", announcement or CANCELLED_BODY, workflow.MAX_BODY)
    errors.raise_any()
    assert body
    before = _snapshot(incident)
    incident.cancelled_at = now()
    incident.calendar_sequence += 1
    write_update(
        incident, IncidentStatus.COMPLETED, body, [], actor, notify, ChangeCause.MAINTENANCE
    )
    record(actor, "maintenance.cancel", "incident", incident.id, before, _snapshot(incident))
    db.session.commit()
    return incident


def _snapshot(incident: Incident) -> dict[str, object]:
    return {
        **snapshot(incident),
        "scheduled_for": incident.scheduled_for.isoformat() if incident.scheduled_for else None,
        "scheduled_until": incident.scheduled_until.isoformat()
        if incident.scheduled_until
        else None,
    }


def _claim(incident_id: str, expected: tuple[IncidentStatus, ...], to: IncidentStatus) -> bool:
    """Move the status only if nobody else did: two beats never post the same transition."""
    result = db.session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.status.in_(expected))
        .values(status=to)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def start(incident_id: str) -> bool:
    """scheduled -> in_progress: components go under maintenance."""
    if not _claim(incident_id, (IncidentStatus.SCHEDULED,), IncidentStatus.IN_PROGRESS):
        db.session.rollback()
        return False
    incident = db.session.get(Incident, incident_id, populate_existing=True)
    assert incident is not None
    changes = [(c, ComponentStatus.UNDER_MAINTENANCE) for c in incident.components]
    write_update(
        incident,
        IncidentStatus.IN_PROGRESS,
        IN_PROGRESS_BODY,
        changes,
        None,
        True,
        ChangeCause.MAINTENANCE,
    )
    record(None, "maintenance.start", "incident", incident.id, None, _snapshot(incident))
    db.session.commit()
    return True


def complete(incident_id: str) -> bool:
    """in_progress/verifying -> completed: components under maintenance go back to operational."""
    if not _claim(incident_id, ACTIVE, IncidentStatus.COMPLETED):
        db.session.rollback()
        return False
    incident = db.session.get(Incident, incident_id, populate_existing=True)
    assert incident is not None
    changes = [
        (c, ComponentStatus.OPERATIONAL)
        for c in incident.components
        if c.status == ComponentStatus.UNDER_MAINTENANCE
    ]
    write_update(
        incident,
        IncidentStatus.COMPLETED,
        COMPLETED_BODY,
        changes,
        None,
        True,
        ChangeCause.MAINTENANCE,
    )
    record(None, "maintenance.complete", "incident", incident.id, None, _snapshot(incident))
    db.session.commit()
    return True


@dataclass
class TickReport:
    started: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    noticed: list[str] = field(default_factory=list)


def tick(at: datetime | None = None) -> TickReport:
    """Make every transition whose time has come and send the advance notices due (``at``
    defaults to the clock's now)."""
    at = at or now()
    report = TickReport()
    to_start = db.session.scalars(
        select(Incident.id)
        .where(
            Incident.impact == Impact.MAINTENANCE,
            Incident.status == IncidentStatus.SCHEDULED,
            Incident.scheduled_auto_in_progress.is_(True),
            Incident.scheduled_for <= at,
        )
        .order_by(Incident.scheduled_for)
    ).all()
    db.session.commit()
    report.started = [i for i in to_start if start(i)]
    to_complete = db.session.scalars(
        select(Incident.id)
        .where(
            Incident.impact == Impact.MAINTENANCE,
            Incident.status.in_(ACTIVE),
            Incident.scheduled_auto_completed.is_(True),
            Incident.scheduled_until <= at,
        )
        .order_by(Incident.scheduled_until)
    ).all()
    db.session.commit()
    report.completed = [i for i in to_complete if complete(i)]
    report.noticed = notices.send_due(at)
    return report


def parse_when(field_name: str, value: object) -> datetime | None:
    """An RFC 3339 time (seconds and a UTC offset required: naive times are ambiguous),
    as the OpenAPI document's ``date-time`` says, its year as written within bounds."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and (match := RFC3339.fullmatch(value)):
        leap = match["second"] == "60"  # a leap second: the next second, in Python's terms
        text = value[: match.start("second")] + ("59" if leap else match["second"])
        text += value[match.end("second") :].upper().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError({field_name: f"must be a real time, e.g. {EXAMPLE}"}) from None
        parsed += timedelta(seconds=leap)
    else:
        raise ValidationError({field_name: f"must be an RFC 3339 time, e.g. {EXAMPLE}"})
    if parsed.tzinfo is None:
        raise ValidationError({field_name: "must include a UTC offset"})
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValidationError({field_name: f"must be between {MIN_YEAR} and {MAX_YEAR}"})
    return parsed.astimezone(UTC)
