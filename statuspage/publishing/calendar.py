"""``/maintenance.ics``: every maintenance window as an iCalendar event to subscribe to.

Calendar clients match events by ``UID`` and keep the copy with the highest ``SEQUENCE``,
so each window's UID is its incident id (never reused) and its sequence is the one the
window service bumps on every move and on a cancel; a cancelled window stays in the feed
with ``STATUS:CANCELLED`` so subscribed calendars strike it out instead of keeping it.
Stamps come from the rows, not the clock, so an unchanged calendar keeps its bytes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from icalendar import Calendar, Event

from statuspage.messages import plain_text
from statuspage.models import Incident
from statuspage.publishing.state import PublicState
from statuspage.text_rules import plain_line

PATH = "maintenance.ics"
PRODID = "-//statuspage//maintenance calendar//EN"


def uid(incident: Incident, host: str) -> str:
    return f"maintenance-{incident.id}@{host}"


def _event(incident: Incident, state: PublicState, host: str) -> Event:
    url = f"{state.base_url}/incidents/{incident.id}"
    event = Event()
    event.add("uid", uid(incident, host))
    event.add("dtstamp", incident.updated_at)
    event.add("created", incident.created_at)
    event.add("last-modified", incident.updated_at)
    event.add("dtstart", incident.scheduled_for)
    event.add("dtend", incident.scheduled_until)
    event.add("sequence", incident.calendar_sequence or 0)
    event.add("status", "CANCELLED" if incident.cancelled_at else "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # a window on our side does not make anyone busy
    event.add("summary", plain_line(incident.name))
    # The announcement as the operator wrote it (first update), then where to follow it.
    first = incident.updates[-1].body if incident.updates else ""
    affects = ", ".join(plain_line(c.display_name) for c in incident.components)
    lines = [plain_text(first)] if first else []
    if affects:
        lines.append(f"Affects: {affects}")
    lines.append(url)
    event.add("description", "\n\n".join(lines))
    event.add("url", url)
    return event


def document(state: PublicState) -> bytes:
    host = urlsplit(state.base_url).hostname or "statuspage"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{plain_line(state.page.name)} maintenance")
    calendar.add("x-published-ttl", "PT1H")
    windows = sorted(
        (m for m in state.maintenances if m.scheduled_for and m.scheduled_until),
        key=lambda m: (m.scheduled_for, m.id),
    )
    for incident in windows:
        calendar.add_component(_event(incident, state, host))
    return calendar.to_ical()


def documents(state: PublicState) -> dict[str, bytes]:
    return {PATH: document(state)}
