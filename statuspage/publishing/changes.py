"""Which records changed since the served snapshot was rendered, read from indexed
timestamps rather than from the whole history.

Every write the site shows stamps a row: an incident's ``updated_at``, an update's
``updated_at``, a revision's ``created_at``, a component's or group's name (compared with
the names the manifest holds). Rows stamped after the previous render began, less
``OVERLAP`` (a transaction that flushed before that moment but committed after it, or a
writer whose clock lags), are rendered again. What timestamps cannot show (an incident
deleted, rows inserted with old times by an import, a component added or removed, the
page's own settings, a new template) is caught by comparing counts and digests, and makes
the publish a full one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select

from statuspage.extensions import db
from statuspage.models import (
    AffectedComponent,
    Component,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    IncidentUpdateRevision,
    Page,
)
from statuspage.models.incidents import incident_component
from statuspage.publishing.manifest import Manifest

OVERLAP = timedelta(minutes=10)
CLOSED = (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED)
# Named rather than "not closed", so the status index finds the few open rows of thousands.
OPEN = tuple(status for status in IncidentStatus if status not in CLOSED)


@dataclass
class Changes:
    incidents: set[str]  # pages to render again: changed, new, or open (time shows on them)
    components: set[str]  # component feeds to render again
    renamed: set[str] = field(default_factory=set)


def page_digest(page: Page) -> str:
    """The page's own settings, which every file of the site may print."""
    held = [getattr(page, c.key) for c in page.__mapper__.column_attrs]
    return hashlib.sha256(repr(held).encode()).hexdigest()[:16]


def incident_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Incident)) or 0


def _ids(query: object) -> set[str]:
    return set(db.session.scalars(query))  # type: ignore[call-overload]


def since(previous: Manifest, components: Iterable[Component]) -> Changes | None:
    """What changed since ``previous`` was rendered; None when only a full render can say."""
    count = incident_count()  # before the stamps: an incident added meanwhile is then extra
    names = {c.id: c.display_name for c in components}
    if names.keys() != previous.components.keys():
        return None
    stamp = datetime.fromisoformat(previous.rendered_at) - OVERLAP
    update, revision = IncidentUpdate, IncidentUpdateRevision
    changed = _ids(select(Incident.id).where(Incident.updated_at >= stamp))
    changed |= _ids(select(update.incident_id).where(update.updated_at >= stamp))
    changed |= _ids(
        select(update.incident_id)
        .join(revision, revision.update_id == update.id)
        .where(revision.created_at >= stamp)
    )
    changed |= _ids(select(Incident.id).where(Incident.status.in_(OPEN)))
    new = changed - previous.incidents.keys()
    if count != len(previous.incidents) + len(new):
        return None  # an incident was deleted, or rows came in with old stamps
    renamed = {cid for cid, name in names.items() if previous.components[cid] != name}
    if renamed:
        changed |= _ids(
            select(incident_component.c.incident_id).where(
                incident_component.c.component_id.in_(renamed)
            )
        )
        changed |= _ids(
            select(update.incident_id)
            .join(AffectedComponent, AffectedComponent.update_id == update.id)
            .where(AffectedComponent.component_id.in_(renamed))
        )
    touched = _ids(
        select(incident_component.c.component_id).where(
            incident_component.c.incident_id.in_(changed)
        )
    )
    return Changes(changed, touched | renamed, renamed)


def shown_ids(components: set[str], recent: int, feed: int, per_component: int) -> set[str]:
    """The incidents the files rendered on every publish show with their updates: open
    ones, the latest incidents, every maintenance (the calendar lists them all), and those
    owning the latest updates of the site's feed and of ``components``' feeds."""
    ids = _ids(select(Incident.id).where(Incident.status.in_(OPEN)))
    ids |= _ids(
        select(Incident.id)
        .where(Incident.impact != Impact.MAINTENANCE)
        .order_by(Incident.created_at.desc())
        .limit(recent)
    )
    ids |= _ids(select(Incident.id).where(Incident.impact == Impact.MAINTENANCE))
    # A few more than the feeds carry: ties of created_at are ordered by id in Python.
    update = IncidentUpdate
    ids |= _ids(select(update.incident_id).order_by(update.created_at.desc()).limit(feed + 10))
    for component_id in components:
        ids |= _ids(
            select(update.incident_id)
            .join(incident_component, incident_component.c.incident_id == update.incident_id)
            .where(incident_component.c.component_id == component_id)
            .order_by(update.created_at.desc())
            .limit(per_component + 10)
        )
    return ids


def past_day_ids(at: datetime, days: int) -> set[str]:
    """The incidents that began in the last ``days`` days, which the home page lists by
    name only."""
    first_day = at.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    return _ids(
        select(Incident.id).where(
            or_(
                and_(Incident.scheduled_for.is_not(None), Incident.scheduled_for >= first_day),
                and_(Incident.scheduled_for.is_(None), Incident.started_at >= first_day),
            )
        )
    )


def month_ids(key: str) -> set[str]:
    """The incidents listed under month ``key`` ("2026-11")."""
    year, month = (int(p) for p in key.split("-"))
    first = datetime(year, month, 1, tzinfo=UTC)
    after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    began = func.coalesce(Incident.scheduled_for, Incident.started_at, Incident.created_at)
    return _ids(select(Incident.id).where(began >= first, began < after))
