"""/maintenance.ics: windows a calendar can subscribe to, updated in place when they move
or are cancelled (stable UIDs, a growing SEQUENCE, STATUS:CANCELLED)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from icalendar import Calendar

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents import maintenance
from statuspage.lib.clock import now
from statuspage.models import Incident
from statuspage.publishing.snapshot import publish


def calendar(client) -> Calendar:
    response = client.get("/maintenance.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    parsed = Calendar.from_ical(response.data)
    assert parsed["VERSION"] == "2.0" and parsed["PRODID"]
    return parsed


def events(parsed: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in parsed.walk("VEVENT")}


def window(components, name: str, starts_in: timedelta) -> Incident:
    start = (now() + starts_in).replace(microsecond=0)
    return maintenance.schedule(
        actor=None,
        name=name,
        body="We are upgrading the **primary** database.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=[components["API"]],
    )


def test_a_window_is_an_event_and_a_move_a_higher_sequence(app, client, components):
    row = window(components, "Database upgrade", timedelta(days=1))
    publish()
    (first,) = events(calendar(client)).values()
    uid = str(first["UID"])
    assert uid == f"maintenance-{row.id}@status.test"
    assert first["SUMMARY"] == "Database upgrade"
    assert first.decoded("DTSTART") == row.scheduled_for.astimezone(UTC)
    assert first.decoded("DTEND") == row.scheduled_until.astimezone(UTC)
    assert first["STATUS"] == "CONFIRMED"
    assert "We are upgrading the primary database." in first["DESCRIPTION"]
    assert "Affects: Platform - API" in first["DESCRIPTION"]
    assert first["URL"] == f"http://status.test/incidents/{row.id}"
    before = first.decoded("SEQUENCE")

    later = row.scheduled_for + timedelta(hours=3)
    maintenance.reschedule(
        actor=None,
        incident_id=row.id,
        scheduled_for=later,
        scheduled_until=later + timedelta(hours=1),
        announcement="Moved by three hours.",
    )
    publish()
    moved = events(calendar(client))[uid]
    assert moved.decoded("SEQUENCE") > before
    assert moved.decoded("DTSTART") == later
    assert moved.decoded("DTEND") == later + timedelta(hours=1)

    # The same window again is not a move: calendars need not fetch anything new.
    maintenance.reschedule(
        actor=None,
        incident_id=row.id,
        scheduled_for=later,
        scheduled_until=later + timedelta(hours=1),
    )
    publish()
    assert events(calendar(client))[uid].decoded("SEQUENCE") == moved.decoded("SEQUENCE")


def test_a_cancelled_window_stays_with_status_cancelled(app, client, components):
    kept = window(components, "Kept", timedelta(days=2))
    dropped = window(components, "Dropped", timedelta(days=1))
    publish()
    before = events(calendar(client))
    maintenance.cancel(actor=None, incident_id=dropped.id)
    publish()
    after = events(calendar(client))
    assert after.keys() == before.keys()
    gone = after[f"maintenance-{dropped.id}@status.test"]
    assert gone["STATUS"] == "CANCELLED"
    assert gone.decoded("SEQUENCE") > before[str(gone["UID"])].decoded("SEQUENCE")
    assert after[f"maintenance-{kept.id}@status.test"]["STATUS"] == "CONFIRMED"
    row = db.session.get(Incident, dropped.id)
    assert (row.status, row.updates[0].body) == ("completed", maintenance.CANCELLED_BODY)
    page = client.get(f"/incidents/{dropped.id}").get_data(as_text=True)
    assert "<dt>Status</dt><dd>Cancelled</dd>" in page


def test_a_started_window_cannot_be_cancelled(app, components):
    row = window(components, "Now", timedelta(minutes=-1))
    maintenance.tick()
    with pytest.raises(ValidationError) as refused:
        maintenance.cancel(actor=None, incident_id=row.id)
    assert "status" in refused.value.errors
    db.session.expire_all()
    assert db.session.get(Incident, row.id).cancelled_at is None


def test_the_page_links_the_calendar_and_it_keeps_its_bytes(app, client, components):
    window(components, "Database upgrade", timedelta(days=1))
    publish()
    page = client.get("/").get_data(as_text=True)
    assert 'type="text/calendar" href="/maintenance.ics"' in page
    assert '<a href="/maintenance.ics">Subscribe in your calendar</a>' in page
    first = client.get("/maintenance.ics")
    publish()
    again = client.get("/maintenance.ics")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
