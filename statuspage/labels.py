"""Human words for statuses and impacts, in the language being rendered (lazy, so one
table serves every language a worker renders in turn)."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from statuspage.models import ComponentStatus, Impact, IncidentStatus

COMPONENT = {
    ComponentStatus.OPERATIONAL.value: _l("Operational"),
    ComponentStatus.DEGRADED_PERFORMANCE.value: _l("Degraded performance"),
    ComponentStatus.PARTIAL_OUTAGE.value: _l("Partial outage"),
    ComponentStatus.MAJOR_OUTAGE.value: _l("Major outage"),
    ComponentStatus.UNDER_MAINTENANCE.value: _l("Under maintenance"),
}
INCIDENT = {
    IncidentStatus.INVESTIGATING.value: _l("Investigating"),
    IncidentStatus.IDENTIFIED.value: _l("Identified"),
    IncidentStatus.MONITORING.value: _l("Monitoring"),
    IncidentStatus.RESOLVED.value: _l("Resolved"),
    IncidentStatus.POSTMORTEM.value: _l("Postmortem"),
    IncidentStatus.SCHEDULED.value: _l("Scheduled"),
    IncidentStatus.IN_PROGRESS.value: _l("In progress"),
    IncidentStatus.VERIFYING.value: _l("Verifying"),
    IncidentStatus.COMPLETED.value: _l("Completed"),
}
IMPACT = {
    Impact.NONE.value: _l("No impact"),
    Impact.MINOR.value: _l("Minor impact"),
    Impact.MAJOR.value: _l("Major impact"),
    Impact.CRITICAL.value: _l("Critical impact"),
    Impact.MAINTENANCE.value: _l("Maintenance"),
}
# The page banner: the /api/v2 indicator's description (English there, as Statuspage's).
BANNER = {
    "none": _l("All Systems Operational"),
    "minor": _l("Partially Degraded Service"),
    "major": _l("Partial System Outage"),
    "critical": _l("Major System Outage"),
    "maintenance": _l("Service Under Maintenance"),
}
LABELS = {"component": COMPONENT, "incident": INCIDENT, "impact": IMPACT, "banner": BANNER}


def in_sentence(label: object) -> str:
    """A label inside a sentence: lower case, except in German, whose nouns keep theirs."""
    locale = get_locale()
    text = str(label)
    return text if locale is not None and locale.language == "de" else text.lower()


def component(status: str) -> str:
    return str(COMPONENT[str(status)])


def incident(status: str) -> str:
    return str(INCIDENT[str(status)])


def impact(value: str) -> str:
    return str(IMPACT[str(value)])
