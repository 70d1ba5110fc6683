"""Advance notices of maintenance: 24 hours and 1 hour before the start (or the offsets
in Settings), once per window and offset, through the outbox to subscribers and the
announcing channels; a moved window is noticed again for its new time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents import maintenance, notices
from statuspage.lib.clock import now
from statuspage.lib.timefmt import human
from statuspage.models import Delivery, MaintenanceNotice, Page, SubscriberKind
from tests.channels.helpers import deliver, rows
from tests.fakes.fixtures import add_subscriber, connect
from tests.signin import csrf_token, login

READER = "reader@example.net"


def window(components, ahead: timedelta = timedelta(days=3)):  # noqa: ANN001, ANN201
    start = (now() + ahead).replace(second=0, microsecond=0)
    return maintenance.schedule(
        actor=None,
        name="Database upgrade",
        body="We upgrade the database.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=[components["API"]],
    )


def deliver_new(seen: set[int]) -> None:
    for row in rows():
        if row.id not in seen:
            seen.add(row.id)
            deliver(row)


def test_notices_reach_subscribers_and_channels_once_per_offset(app, cast, components, wired):
    connect(wired, "slack", "smtp")
    add_subscriber(SubscriberKind.EMAIL, READER)
    incident = window(components)
    start, end = incident.scheduled_for, incident.scheduled_until
    seen: set[int] = set()
    deliver_new(seen)
    assert len(wired["slack"].messages()) == len(wired["smtp"].to(READER)) == 1  # scheduled

    assert maintenance.tick(start - timedelta(hours=25)).noticed == []
    day_before = start - timedelta(hours=24) + timedelta(seconds=30)
    assert maintenance.tick(day_before).noticed == [incident.id]
    assert maintenance.tick(day_before + timedelta(minutes=1)).noticed == []  # once
    deliver_new(seen)
    slack, mail = wired["slack"].messages()[-1], wired["smtp"].to(READER)[-1]
    expected = (
        f"Reminder: this maintenance begins in 1 day, at {human(start)}, "
        f"and is expected to end at {human(end)}."
    )
    assert expected in slack["blocks"][1]["text"]["text"]
    assert expected in mail.part("plain")
    assert mail.message["Subject"].endswith("Scheduled: Database upgrade")

    hour_before = start - timedelta(minutes=59)
    assert maintenance.tick(hour_before).noticed == [incident.id]
    deliver_new(seen)
    assert "begins in 59 min" in wired["smtp"].to(READER)[-1].part("plain")
    assert len(wired["slack"].messages()) == len(wired["smtp"].to(READER)) == 3
    ledger = {(d.transport, d.state) for d in rows() if d.update_id != incident.updates[0].id}
    assert ledger == {("slack", "sent"), ("email", "sent"), ("page", "sent")}
    offsets = db.session.scalars(db.select(MaintenanceNotice.offset_minutes)).all()
    assert sorted(offsets) == [60, 24 * 60]


def test_a_moved_window_is_noticed_again_and_a_late_beat_sends_the_nearest(app, cast, components):
    incident = window(components)
    maintenance.tick(incident.scheduled_for - timedelta(hours=23))
    moved = incident.scheduled_for + timedelta(days=1)
    maintenance.reschedule(
        actor=None,
        incident_id=incident.id,
        scheduled_for=moved,
        scheduled_until=moved + timedelta(hours=2),
        announcement="Moved by a day.",
    )
    # The beat was down until 30 minutes before the new start: only the nearest notice.
    assert maintenance.tick(moved - timedelta(minutes=30)).noticed == [incident.id]
    assert maintenance.tick(moved - timedelta(minutes=29)).noticed == []
    notes = db.session.scalars(
        db.select(MaintenanceNotice).where(MaintenanceNotice.scheduled_for == moved)
    ).all()
    assert [n.offset_minutes for n in notes] == [60]


def test_cancelled_and_just_announced_windows_get_no_notice(app, cast, components):
    soon = window(components, timedelta(minutes=20))  # just announced, within both offsets
    assert maintenance.tick(now() + timedelta(minutes=1)).noticed == []
    later = window(components)
    maintenance.cancel(actor=None, incident_id=later.id)
    assert maintenance.tick(later.scheduled_for - timedelta(minutes=30)).noticed == []
    assert db.session.scalar(db.select(db.func.count()).select_from(MaintenanceNotice)) == 0
    assert soon.id


def test_offsets_are_set_in_settings(app, cast, client):
    assert notices.offsets() == [24 * 60, 60]
    with pytest.raises(ValidationError):
        notices.parse_offsets("24h, soon")
    assert notices.parse_offsets("2d, 90m, 1h") == [2 * 24 * 60, 90, 60]
    login(client, "alice@example.com")
    token = csrf_token(client, "/admin/settings")
    refused = client.post("/admin/settings/notices", data={"csrf_token": token, "offsets": "x"})
    assert refused.status_code == 422
    saved = client.post("/admin/settings/notices", data={"csrf_token": token, "offsets": "48h"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert Page.get().maintenance_notice_minutes == [48 * 60]
    assert 'value="2d"' in client.get("/admin/settings").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Delivery)) == 0


def test_a_notice_is_written_in_the_page_language(app, cast, components):
    Page.get().default_language = "de"
    db.session.commit()
    incident = window(components)
    start = incident.scheduled_for
    assert maintenance.tick(start - timedelta(minutes=90)).noticed == [incident.id]
    db.session.refresh(incident)
    (body,) = [u.body for u in incident.updates if u.body != "We upgrade the database."]
    assert body.startswith("Erinnerung: Diese Wartung beginnt in 1 Std. 30 Min., am ")
    assert start.strftime("%H:%M UTC") in body and "endet voraussichtlich am" in body
