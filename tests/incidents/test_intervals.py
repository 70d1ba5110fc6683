"""Update cadence by impact and status: the built-in table, the installation's own from
Settings, the incident's own interval over both; an overdue promise told again to the
operators at the repeat interval until an update is posted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statuspage.extensions import db
from statuspage.incidents import cadence, intervals, service
from statuspage.lib.timefmt import human
from statuspage.models import AuditEvent, Page, TargetKind
from tests.channels.helpers import deliver, rows
from tests.fakes.fixtures import RECEIVER_PATH, connect
from tests.signin import csrf_token, login


def promised(update) -> timedelta:  # noqa: ANN001
    return update.next_update_due - update.created_at


def test_intervals_follow_impact_and_status(app, cast, components):
    critical = service.open_incident(actor=None, name="Down", impact="critical", body="x")
    assert promised(critical.updates[0]) == timedelta(minutes=10)
    for status, minutes in (("identified", 10), ("monitoring", 30)):
        update = service.post_update(actor=None, incident_id=critical.id, status=status, body="x")
        assert promised(update) == timedelta(minutes=minutes)
    minor = service.open_incident(actor=None, name="Slow", impact="minor", body="x")
    assert promised(minor.updates[0]) == timedelta(minutes=30)
    update = service.post_update(actor=None, incident_id=minor.id, status="monitoring", body="x")
    assert promised(update) == timedelta(minutes=120)
    none = service.open_incident(actor=None, name="Odd", impact="none", body="x")
    assert promised(none.updates[0]) == timedelta(minutes=60)
    own = service.open_incident(
        actor=None, name="Own", impact="critical", body="x", update_interval=45
    )
    assert promised(own.updates[0]) == timedelta(minutes=45)


def test_settings_change_the_table_for_the_next_update(app, cast, client, components):
    incident = service.open_incident(actor=None, name="Down", impact="critical", body="x")
    before = incident.next_update_due
    login(client, "alice@example.com")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="critical_investigating"' in page and 'value="10"' in page
    form = {
        intervals.field_name(impact, status): str(minutes)
        for impact, row in intervals.DEFAULTS.items()
        for status, minutes in row.items()
    }
    form.update(
        csrf_token=csrf_token(client, "/admin/settings"),
        critical_identified="7",
        overdue_repeat_minutes="20",
    )
    refused = client.post("/admin/settings/cadence", data={**form, "minor_monitoring": "2"})
    assert refused.status_code == 422
    assert "Minor impact, monitoring" in refused.get_data(as_text=True)
    assert client.post("/admin/settings/cadence", data=form).status_code == 302
    db.session.expire_all()
    assert Page.get().overdue_repeat_minutes == 20
    assert db.session.get(type(incident), incident.id).next_update_due == before  # stands
    update = service.post_update(actor=None, incident_id=incident.id, status="identified", body="x")
    assert promised(update) == timedelta(minutes=7)
    assert db.session.scalars(db.select(AuditEvent.action)).all()[-2] == "page.cadence"


def test_the_service_refuses_a_table_with_a_hole(app, cast):
    with pytest.raises(Exception) as caught:
        intervals.save(actor=None, values={"critical_investigating": 10}, repeat=15)
    assert "minor_monitoring" in caught.value.errors  # type: ignore[attr-defined]


def test_an_overdue_promise_is_told_again_until_an_update(app, cast, components, wired):
    made = connect(wired, "slack", "webhook")
    for channel in made.values():
        channel.operator_alerts, channel.announce_updates = True, False
    db.session.commit()
    incident = service.open_incident(actor=None, name="Checkout errors", impact="major", body="x")
    due = incident.next_update_due
    for minutes in (-4, 1, 14, 15, 16, 29, 31):
        cadence.run(due + timedelta(minutes=minutes))
    alerts = [r for r in rows() if r.target_kind == TargetKind.ALERT]
    assert len(alerts) == 2 * 4  # reminder, overdue, repeats at 15 and 30 minutes; each channel
    for row in alerts:
        deliver(row)
    texts = [m["text"] for m in wired["slack"].messages()]
    assert texts == [
        f"Next update for “Checkout errors” is due by {human(due)} (in 4 min).",
        f"The update promised for “Checkout errors” by {human(due)} is overdue.",
        f"Still no update for “Checkout errors”: it was promised by {human(due)}, 15 min ago.",
        f"Still no update for “Checkout errors”: it was promised by {human(due)}, 31 min ago.",
    ]
    events = wired["receiver"].events(RECEIVER_PATH)
    assert [e["kind"] for e in events] == ["reminder", "overdue", "overdue_again", "overdue_again"]

    update = service.post_no_news(actor=None, incident_id=incident.id)
    report = cadence.run(update.next_update_due - timedelta(minutes=1))
    assert report.repeated == report.overdue == []  # a new promise: nothing is overdue


def test_no_news_yet_is_written_in_the_page_language(app, cast, components):
    Page.get().default_language = "de"
    db.session.commit()
    incident = service.open_incident(actor=None, name="Checkout errors", impact="major", body="x")
    update = service.post_no_news(actor=None, incident_id=incident.id)
    due = update.next_update_due.strftime("%H:%M UTC")
    assert update.body == f"Wir untersuchen das Problem weiterhin; nächstes Update bis {due}."
