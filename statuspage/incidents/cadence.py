"""The "next update by" promise: remind responders before it falls due, flag it when missed.

The flags drive the admin banner; each new flag also queues an operator alert to every
channel configured for them (Slack, webhook, email to the responders) in the same
transaction, and an overdue promise is told again every ``overdue_repeat_minutes``
(Settings) until an update is posted. Every function takes the time it judges by, so the
beat passes the clock's now and tests pass a frozen one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from statuspage.alerts import alert_operators, notify_operators
from statuspage.extensions import db
from statuspage.incidents.intervals import DEFAULT_REPEAT
from statuspage.incidents.workflow import CLOSED_STATUSES
from statuspage.lib.timefmt import human
from statuspage.models import AlertKind, Impact, Incident, Page
from statuspage.models.audit import record

REMIND_BEFORE = timedelta(minutes=5)


@dataclass
class CadenceReport:
    reminded: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)


def _open_with_promise() -> list:
    return [
        Incident.impact != Impact.MAINTENANCE,
        Incident.status.not_in(CLOSED_STATUSES),
        Incident.next_update_due.is_not(None),
    ]


def _flag(incident_id: str, column: str, at: datetime, due: datetime) -> bool:
    """Set the flag once per promise; the due time in the WHERE ignores a stale read."""
    col = getattr(Incident, column)
    result = db.session.execute(
        update(Incident)
        .where(Incident.id == incident_id, col.is_(None), Incident.next_update_due == due)
        .values({column: at})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def run(at: datetime) -> CadenceReport:
    """Mark reminders and overdue incidents as of ``at``; returns what changed just now."""
    report = CadenceReport()
    soon = db.session.execute(
        select(Incident.id, Incident.name, Incident.next_update_due).where(
            *_open_with_promise(),
            Incident.reminded_at.is_(None),
            Incident.next_update_due <= at + REMIND_BEFORE,
        )
    ).all()
    for incident_id, name, due in soon:
        if _flag(incident_id, "reminded_at", at, due):
            record(
                None, "incident.reminder", "incident", incident_id, None, {"due": due.isoformat()}
            )
            minutes = max(0, round((due - at).total_seconds() / 60))
            text = f"Next update for “{name}” is due by {human(due)} (in {minutes} min)."
            alert_operators(incident_id, AlertKind.REMINDER, text)
            report.reminded.append(incident_id)
    late = db.session.execute(
        select(Incident.id, Incident.name, Incident.next_update_due).where(
            *_open_with_promise(),
            Incident.overdue_at.is_(None),
            Incident.next_update_due <= at,
        )
    ).all()
    for incident_id, name, due in late:
        if _flag(incident_id, "overdue_at", at, due):
            record(
                None, "incident.overdue", "incident", incident_id, None, {"due": due.isoformat()}
            )
            text = f"The update promised for “{name}” by {human(due)} is overdue."
            alert_operators(incident_id, AlertKind.OVERDUE, text)
            report.overdue.append(incident_id)
    _repeat_overdue(at, report)
    db.session.commit()
    return report


def _repeat_overdue(at: datetime, report: CadenceReport) -> None:
    """Tell the operators again, once per repeat interval passed, while a promise stays
    unkept. The promise's time and the repeat's number name the alert, so a beat that runs
    twice, or late, sends each repeat once."""
    every = timedelta(minutes=Page.get().overdue_repeat_minutes or DEFAULT_REPEAT)
    late = db.session.execute(
        select(Incident.id, Incident.name, Incident.next_update_due).where(
            *_open_with_promise(),
            Incident.overdue_at.is_not(None),
            Incident.next_update_due <= at - every,
        )
    ).all()
    for incident_id, name, due in late:
        number = int((at - due) / every)
        minutes = int((at - due).total_seconds() // 60)
        text = f"Still no update for “{name}”: it was promised by {human(due)}, {minutes} min ago."
        subject = f"overdue:{incident_id}:{int(due.timestamp())}:{number}"
        queued = notify_operators(
            subject, AlertKind.OVERDUE_AGAIN, text, f"/admin/incidents/{incident_id}"
        )
        if queued:
            report.repeated.append(incident_id)


def attention(at: datetime) -> list[Incident]:
    """Open incidents whose update is due soon or overdue, soonest first (the admin banner):
    by the clock, or because the beat already reminded or flagged them."""
    return list(
        db.session.scalars(
            select(Incident)
            .where(
                *_open_with_promise(),
                or_(
                    Incident.next_update_due <= at + REMIND_BEFORE,
                    Incident.reminded_at.is_not(None),
                    Incident.overdue_at.is_not(None),
                ),
            )
            .order_by(Incident.next_update_due)
        )
    )


def state(incident: Incident, at: datetime) -> str | None:
    """ "overdue", "due soon" or None, as the admin shows it."""
    due = incident.next_update_due
    if due is None or not incident.is_open or incident.is_maintenance:
        return None
    if incident.overdue_at is not None or due <= at:
        return "overdue"
    if incident.reminded_at is not None or due <= at + REMIND_BEFORE:
        return "due soon"
    return None
