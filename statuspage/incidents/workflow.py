"""Which statuses and impacts an incident may take, and how often it must speak."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from statuspage.errors import ValidationError
from statuspage.models import ComponentStatus, Impact, IncidentStatus

INCIDENT_STATUSES = (
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
    IncidentStatus.RESOLVED,
)
MAINTENANCE_STATUSES = (
    IncidentStatus.SCHEDULED,
    IncidentStatus.IN_PROGRESS,
    IncidentStatus.VERIFYING,
    IncidentStatus.COMPLETED,
)
CLOSED_STATUSES = (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED)
INCIDENT_IMPACTS = (Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL)

MIN_INTERVAL = 5
MAX_INTERVAL = 24 * 60
MAX_NAME = 255
MAX_BODY = 20_000
MAX_DESCRIPTION = 2_000


class Conflict(Exception):
    """The request is well-formed but the object's current state forbids it."""


def parse_status(value: str | None, allowed: tuple[IncidentStatus, ...]) -> IncidentStatus:
    if value in allowed:
        return IncidentStatus(value)
    raise ValidationError({"status": f"must be one of {', '.join(allowed)}"})


def parse_impact(value: str | None) -> Impact:
    if value in INCIDENT_IMPACTS:
        return Impact(value)
    raise ValidationError({"impact": f"must be one of {', '.join(INCIDENT_IMPACTS)}"})


def parse_component_status(component_id: str, value: str | None) -> ComponentStatus:
    try:
        return ComponentStatus(value)
    except ValueError:
        raise ValidationError(
            {f"components.{component_id}": f"must be one of {', '.join(ComponentStatus)}"}
        ) from None


def check_interval(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({"update_interval": "must be a whole number of minutes"})
    if not MIN_INTERVAL <= value <= MAX_INTERVAL:
        raise ValidationError(
            {"update_interval": f"must be between {MIN_INTERVAL} and {MAX_INTERVAL} minutes"}
        )
    return value


def next_update_due(minutes: int | None, at: datetime) -> datetime | None:
    """When the incident next owes the public an update (``minutes`` from
    ``statuspage.incidents.intervals``; None: nothing is owed)."""
    return at + timedelta(minutes=minutes) if minutes else None


def parse_row_id(raw: str | None) -> int | None:
    """An integer primary key from text, or None: ASCII digits only, within a 32-bit column."""
    if raw is None or not re.fullmatch(r"[0-9]{1,9}", raw):
        return None
    return int(raw)
