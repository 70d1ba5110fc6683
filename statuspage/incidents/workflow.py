"""Which statuses and impacts an incident may take, and how often it must speak."""

from __future__ import annotations

from datetime import datetime, timedelta

from statuspage.errors import ValidationError
from statuspage.models import ComponentStatus, Impact, IncidentStatus

INCIDENT_STATUSES = (
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
    IncidentStatus.RESOLVED,
)
INCIDENT_IMPACTS = (Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL)

# Minutes between public updates an incident promises unless the operator says otherwise.
DEFAULT_UPDATE_INTERVAL = {
    Impact.CRITICAL: 30,
    Impact.MAJOR: 30,
    Impact.MINOR: 60,
    Impact.NONE: 120,
}
MAX_NAME = 255
MAX_BODY = 20_000


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


def check_text(field: str, value: str | None, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: "must not be empty"})
    if len(text) > limit:
        raise ValidationError({field: f"must be at most {limit} characters"})
    return text


def check_interval(value: int | None) -> int | None:
    if value is None:
        return None
    if not 5 <= value <= 24 * 60:
        raise ValidationError({"update_interval": "must be between 5 and 1440 minutes"})
    return value


def next_update_due(
    impact: Impact, interval: int | None, status: IncidentStatus, at: datetime
) -> datetime | None:
    """When the incident next owes the public an update; nothing once it is resolved."""
    if status == IncidentStatus.RESOLVED:
        return None
    minutes = interval or DEFAULT_UPDATE_INTERVAL.get(impact)
    return at + timedelta(minutes=minutes) if minutes else None
