"""Advance notices of maintenance: reminders that a window is about to begin, sent to
subscribers and the announcing channels as updates of the maintenance (one outbox row per
target, in the ledger like any update).

Offsets come from Settings (24 hours and 1 hour by default). A notice is due once its
offset before the start has come and nothing was said about the window since then (a
window scheduled or moved 30 minutes ahead was just announced: no "1 hour" notice follows).
When a beat ran late and several are due, only the nearest goes out. Each is recorded per
(window, start, offset), so a beat that runs twice sends it once, and a moved window, whose
start changed, is noticed again for its new time.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask_babel import gettext, ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.i18n import speaking
from statuspage.incidents.service import write_update
from statuspage.lib.timefmt import human
from statuspage.models import (
    ChangeCause,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    MaintenanceNotice,
    Page,
    User,
)
from statuspage.models.audit import record

DEFAULT_OFFSETS = (24 * 60, 60)
MAX_OFFSETS = 5
MAX_OFFSET = 14 * 24 * 60  # two weeks
_OFFSET = re.compile(r"\s*([0-9]{1,5})\s*([dhm])\s*", re.IGNORECASE)
_UNIT = {"d": 24 * 60, "h": 60, "m": 1}


def offsets(page: Page | None = None) -> list[int]:
    """Minutes before the start, largest first."""
    saved = (page or Page.get()).maintenance_notice_minutes
    return sorted(DEFAULT_OFFSETS if saved is None else saved, reverse=True)


def span(minutes: int) -> str:
    """24 h, 1 h, 1 h 30 min, 2 days (in the current language): how a notice says an
    offset."""
    days, rest = divmod(minutes, 24 * 60)
    if days and not rest:
        return ngettext("%(num)d day", "%(num)d days", days)
    hours, mins = divmod(minutes, 60)
    parts = (
        gettext("%(num)d h", num=hours) if hours else "",
        gettext("%(num)d min", num=mins) if mins else "",
    )
    return " ".join(p for p in parts if p)


def offsets_text(values: list[int]) -> str:
    return ", ".join(
        f"{m // (24 * 60)}d" if m % (24 * 60) == 0 else f"{m // 60}h" if m % 60 == 0 else f"{m}m"
        for m in values
    )


def parse_offsets(text: object) -> list[int]:
    """ "24h, 1h" (also d and m units; empty means none) as minutes, largest first."""
    if not isinstance(text, str):
        raise ValidationError({"notice_offsets": "must be text such as “24h, 1h”"})
    found: set[int] = set()
    for part in filter(str.strip, text.split(",")):
        match = _OFFSET.fullmatch(part)
        minutes = int(match[1]) * _UNIT[match[2].lower()] if match else 0
        if not 1 <= minutes <= MAX_OFFSET:
            raise ValidationError(
                {
                    "notice_offsets": f"“{part.strip()[:20]}” is not a time before the start "
                    "between 1m and 14d, such as 24h or 30m"
                }
            )
        found.add(minutes)
    if len(found) > MAX_OFFSETS:
        raise ValidationError({"notice_offsets": f"at most {MAX_OFFSETS} notices"})
    return sorted(found, reverse=True)


def save_offsets(*, actor: User | None, text: object) -> Page:
    """Store the offsets; windows already noticed keep their notices."""
    try:
        values = parse_offsets(text)
    except ValidationError:
        db.session.rollback()
        raise
    page = Page.get()
    before = {"maintenance_notice_minutes": offsets(page)}
    page.maintenance_notice_minutes = values
    record(actor, "page.notices", "page", page.id, before, {"maintenance_notice_minutes": values})
    db.session.commit()
    return page


def notice_body(incident: Incident, at: datetime) -> str:
    """The reminder, in the page's default language: it is stored as the update's text."""
    start, end = incident.scheduled_for, incident.scheduled_until
    assert start is not None and end is not None
    left = max(1, round((start - at).total_seconds() / 60))
    with speaking(Page.get().default_language):
        return gettext(
            "Reminder: this maintenance begins in %(left)s, at %(start)s, and is expected to end"
            " at %(end)s.",
            left=span(left),
            start=human(start),
            end=human(end),
        )


def send_due(at: datetime) -> list[str]:
    """Send every notice due at ``at``; returns the maintenances noticed."""
    wanted = offsets()
    if not wanted:
        return []
    last_said = (
        select(func.max(IncidentUpdate.created_at))
        .where(IncidentUpdate.incident_id == Incident.id)
        .scalar_subquery()
    )
    windows = db.session.execute(
        select(Incident.id, Incident.scheduled_for, last_said).where(
            Incident.impact == Impact.MAINTENANCE,
            Incident.status == IncidentStatus.SCHEDULED,
            Incident.cancelled_at.is_(None),
            Incident.scheduled_for > at,
            Incident.scheduled_for <= at + timedelta(minutes=max(wanted)),
        )
    ).all()
    db.session.commit()
    noticed = []
    for incident_id, start, said in windows:
        sent = db.session.scalars(
            select(MaintenanceNotice.offset_minutes).where(
                MaintenanceNotice.incident_id == incident_id,
                MaintenanceNotice.scheduled_for == start,
            )
        ).all()
        due = [
            m
            for m in wanted
            if start - timedelta(minutes=m) <= at
            and said < start - timedelta(minutes=m)
            and not any(done <= m for done in sent)
        ]
        if due and _send(incident_id, start, min(due), at):
            noticed.append(incident_id)
    return noticed


def _send(incident_id: str, start: datetime, offset: int, at: datetime) -> bool:
    incident = db.session.get(Incident, incident_id, with_for_update=True)
    if incident is None or incident.scheduled_for != start or incident.cancelled_at:
        db.session.rollback()
        return False
    update = write_update(
        incident,
        IncidentStatus.SCHEDULED,
        notice_body(incident, at),
        [],
        None,
        True,
        ChangeCause.MAINTENANCE,
    )
    db.session.add(
        MaintenanceNotice(
            incident_id=incident_id,
            scheduled_for=start,
            offset_minutes=offset,
            update_id=update.id,
        )
    )
    record(None, "maintenance.notice", "incident", incident_id, None, {"offset": offset})
    try:
        db.session.commit()
    except IntegrityError:  # another beat sent this notice first
        db.session.rollback()
        return False
    return True
