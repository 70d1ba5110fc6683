"""How often an open incident promises to speak: minutes by impact and status, the
installation's own table (Settings) over the built-in one, and the incident's own interval
over both. An overdue promise is repeated to the operators at ``overdue_repeat_minutes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents.workflow import (
    INCIDENT_IMPACTS,
    MAX_INTERVAL,
    MIN_INTERVAL,
    check_interval,
)
from statuspage.models import Impact, IncidentStatus, Page, User
from statuspage.models.audit import record

# The statuses that owe a next update (resolved owes none).
PROMISING = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)
Table = dict[Impact, dict[IncidentStatus, int]]

# Worse outages speak more often, and more often before the fix than after it.
DEFAULTS: Table = {
    Impact.CRITICAL: dict(zip(PROMISING, (10, 10, 30), strict=True)),
    Impact.MAJOR: dict(zip(PROMISING, (30, 30, 60), strict=True)),
    Impact.MINOR: dict(zip(PROMISING, (30, 60, 120), strict=True)),
    Impact.NONE: dict(zip(PROMISING, (60, 120, 240), strict=True)),
}
DEFAULT_REPEAT = 15


def table(page: Page | None = None) -> Table:
    """The intervals in force: the page's saved table over the defaults."""
    saved = (page or Page.get()).update_cadence or {}
    merged: Table = {impact: dict(row) for impact, row in DEFAULTS.items()}
    for impact, row in merged.items():
        for status in row:
            value = (saved.get(str(impact)) or {}).get(str(status))
            if isinstance(value, int) and MIN_INTERVAL <= value <= MAX_INTERVAL:
                row[status] = value
    return merged


def minutes_for(impact: Impact, status: IncidentStatus, override: int | None) -> int | None:
    """Minutes until the next promised update; None when nothing is owed."""
    if status not in PROMISING:
        return None
    if override:
        return override
    row = table().get(impact)
    return row.get(status) if row else None


def field_name(impact: str, status: str) -> str:
    return f"{impact}_{status}"


def save(*, actor: User | None, values: Mapping[str, Any], repeat: Any) -> Page:
    """Store a whole table (``values`` keyed by ``field_name``) and the repeat interval.
    Promises already made stand; the new intervals apply from each incident's next update."""
    errors: dict[str, str] = {}
    saved: dict[str, dict[str, int]] = {}
    for impact in INCIDENT_IMPACTS:
        for status in PROMISING:
            name = field_name(impact, status)
            try:
                minutes = check_interval(values.get(name))
            except ValidationError:
                minutes = None
            if minutes is None:
                errors[name] = f"must be between {MIN_INTERVAL} and {MAX_INTERVAL} minutes"
            else:
                saved.setdefault(str(impact), {})[str(status)] = minutes
    try:
        clean_repeat = check_interval(repeat)
    except ValidationError:
        clean_repeat = None
    if clean_repeat is None:
        errors["overdue_repeat_minutes"] = (
            f"must be between {MIN_INTERVAL} and {MAX_INTERVAL} minutes"
        )
    if errors:
        db.session.rollback()
        raise ValidationError(errors)
    assert clean_repeat is not None
    page = Page.get()
    before = {"update_cadence": page.update_cadence, "overdue_repeat": page.overdue_repeat_minutes}
    page.update_cadence, page.overdue_repeat_minutes = saved, clean_repeat
    after = {"update_cadence": saved, "overdue_repeat": clean_repeat}
    record(actor, "page.cadence", "page", page.id, before, after)
    db.session.commit()
    return page
