"""The "next update by" promise, judged at frozen times: a reminder shortly before it is
due, the overdue flag once it passes, and the promise on the page and in every message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.incidents import cadence, service
from statuspage.lib.timefmt import human
from statuspage.messages import build_facts
from statuspage.models import AuditEvent, Incident, TargetKind
from statuspage.publishing.snapshot import publish
from tests.channels.helpers import deliver, rows
from tests.fakes.fixtures import connect
from tests.signin import login


@pytest.fixture
def incident(app, cast, components):
    return service.open_incident(
        actor=cast["responder"],
        name="Checkout errors",
        impact="major",
        body="Investigating",
        update_interval=20,
    )


def reload(incident_id: str) -> Incident:
    db.session.expire_all()
    return db.session.get(Incident, incident_id)


def test_reminder_before_due_then_overdue_after(incident):
    due = incident.next_update_due
    assert cadence.run(due - timedelta(minutes=6)).reminded == []
    assert cadence.state(reload(incident.id), due - timedelta(minutes=6)) is None

    at = due - timedelta(minutes=4)
    report = cadence.run(at)
    assert (report.reminded, report.overdue) == ([incident.id], [])
    row = reload(incident.id)
    assert (row.reminded_at, row.overdue_at) == (at, None)
    assert cadence.state(row, at) == "due soon"
    assert cadence.run(at + timedelta(seconds=30)).reminded == []  # once per promise

    late = due + timedelta(seconds=1)
    report = cadence.run(late)
    assert (report.reminded, report.overdue) == ([], [incident.id])
    row = reload(incident.id)
    assert row.overdue_at == late
    assert cadence.state(row, late) == "overdue"
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["incident.open", "incident.reminder", "incident.overdue"]


def test_a_new_update_makes_a_new_promise(incident, cast):
    cadence.run(incident.next_update_due + timedelta(minutes=1))
    update = service.post_update(
        actor=cast["responder"], incident_id=incident.id, status="identified", body="Found it"
    )
    row = reload(incident.id)
    assert (row.reminded_at, row.overdue_at) == (None, None)
    assert (
        row.next_update_due == update.next_update_due == update.created_at + timedelta(minutes=20)
    )


def test_resolved_incidents_and_maintenances_owe_nothing(incident, cast):
    service.resolve(actor=cast["responder"], incident_id=incident.id, body="Fixed")
    report = cadence.run(incident.created_at + timedelta(days=1))
    assert report.reminded == report.overdue == []


def test_the_banner_and_dashboard_show_what_is_due(client, incident, cast):
    other = service.open_incident(actor=None, name="Slow search", impact="minor", body="x")
    cadence.run(incident.next_update_due + timedelta(seconds=1))
    login(client, "vera@example.com")
    html = client.get("/admin/").get_data(as_text=True)
    # Banner: the overdue incident; the dashboard: soonest due first.
    assert "Overdue:" in html.split("<main", 1)[0]
    table = html.split('id="open-incidents"', 1)[1]
    assert table.index("Checkout errors") < table.index("Slow search")
    assert other.next_update_due > incident.next_update_due


def test_the_promise_is_in_every_message_and_on_the_page(client, incident):
    (update,) = incident.updates
    assert build_facts(update).next_update_due == incident.next_update_due
    publish()
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Next update by" in html
    assert incident.next_update_due.strftime("%H:%M") in html


def test_reminder_and_overdue_reach_the_operators_slack(incident, wired):
    channel = connect(wired, "slack")["slack"]
    channel.operator_alerts, channel.announce_updates = True, False
    db.session.commit()
    due = incident.next_update_due
    cadence.run(due - timedelta(minutes=4))
    cadence.run(due - timedelta(minutes=3))  # the same promise: no second reminder
    cadence.run(due + timedelta(seconds=1))
    alerts = [r for r in rows() if r.target_kind == TargetKind.ALERT]
    assert len(alerts) == 2
    for row in alerts:
        deliver(row)
    texts = [m["text"] for m in wired["slack"].messages()]
    assert texts == [
        f"Next update for “Checkout errors” is due by {human(due)} (in 4 min).",
        f"The update promised for “Checkout errors” by {human(due)} is overdue.",
    ]
