"""Time to first post: from when a problem began (the earliest alert's ``startsAt``, or the
time an operator gives) to when its first public update was committed.

Only incidents with a known start count: an incident opened by hand without one has no
honest figure, and maintenances are announced ahead on purpose.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import iso, now
from statuspage.models import Impact, Incident, User
from statuspage.models.audit import record

WINDOW = timedelta(days=30)
BUCKETS = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 86400)


def seconds(incident: Incident) -> float | None:
    """The incident's time to first post, or None while its start is unknown."""
    if incident.problem_started_at is None or incident.first_posted_at is None:
        return None
    return max(0.0, (incident.first_posted_at - incident.problem_started_at).total_seconds())


def counted() -> list:
    """The conditions of an incident that has a time to first post."""
    return [
        Incident.problem_started_at.is_not(None),
        Incident.first_posted_at.is_not(None),
        Incident.impact != Impact.MAINTENANCE,
    ]


@dataclass(frozen=True)
class Summary:
    median: float | None
    count: int


def recent(at: datetime | None = None) -> Summary:
    """The median over incidents first posted in the last 30 days."""
    since = (at or now()) - WINDOW
    rows = db.session.execute(
        select(Incident.problem_started_at, Incident.first_posted_at).where(
            *counted(), Incident.first_posted_at >= since
        )
    ).all()
    values = [max(0.0, (posted - started).total_seconds()) for started, posted in rows]
    return Summary(statistics.median(values) if values else None, len(values))


def set_problem_start(*, actor: User | None, incident_id: str, started: datetime) -> Incident:
    """The operator's own word on when the problem began."""
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    if started > now():
        raise ValidationError({"problem_started_at": "must not be in the future"})
    if incident.first_posted_at is not None and started > incident.first_posted_at:
        raise ValidationError({"problem_started_at": "must not be after the first public update"})
    before = {"problem_started_at": iso(incident.problem_started_at)}
    incident.problem_started_at = started
    record(
        actor,
        "incident.problem_start",
        "incident",
        incident.id,
        before,
        {"problem_started_at": iso(started)},
    )
    db.session.commit()
    return incident
