"""Each operator reads and types times in their own time zone (the page's until they pick
one), with UTC beside every time shown."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from statuspage.extensions import db
from statuspage.models import AuditEvent, Incident, Page, User
from tests.signin import csrf_token, sign_in


def choose_zone(client, zone: str):
    token = csrf_token(client, "/admin/account")
    return client.post("/admin/account/time-zone", data={"csrf_token": token, "time_zone": zone})


def schedule(client, start: str, end: str, components: dict[str, str]):
    token = csrf_token(client, "/admin/maintenance")
    return client.post(
        "/admin/maintenance",
        data={
            "csrf_token": token,
            "name": "Network work",
            "body": "Switch replacement",
            "scheduled_for": start,
            "scheduled_until": end,
            "components": [components["API"]],
        },
    )


def test_a_window_is_typed_and_shown_in_the_operators_zone_with_utc_beside(
    app, client, cast, components
):
    sign_in(client, "rob@example.com")
    assert choose_zone(client, "Europe/Paris").status_code == 302
    form = html.unescape(client.get("/admin/maintenance").get_data(as_text=True))
    assert "In your time zone, Europe/Paris (UTC+01:00 now)." in form or (
        "In your time zone, Europe/Paris (UTC+02:00 now)." in form
    )
    # Winter (CET, +1) and summer (CEST, +2) both taken as Paris wall-clock times.
    assert schedule(client, "2031-01-10T10:00", "2031-07-10T12:00", components).status_code == 302
    row = db.session.scalars(select(Incident)).one()
    assert row.scheduled_for == datetime(2031, 1, 10, 9, 0, tzinfo=UTC)
    assert row.scheduled_until == datetime(2031, 7, 10, 10, 0, tzinfo=UTC)
    page = html.unescape(client.get(f"/admin/incidents/{row.id}").get_data(as_text=True))
    assert "Jan 10, 2031 10:00 CET" in page and "(09:00 UTC)" in page
    assert 'value="2031-01-10T10:00"' in page  # the move form starts from the window, in Paris
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.time_zone"))
    assert event.after == {"time_zone": "Europe/Paris"}


def test_until_an_operator_chooses_the_page_zone_applies(app, client, cast, components):
    Page.get().time_zone = "America/New_York"
    db.session.commit()
    sign_in(client, "rob@example.com")
    assert schedule(client, "2031-01-10T10:00", "2031-01-10T11:00", components).status_code == 302
    row = db.session.scalars(select(Incident)).one()
    assert row.scheduled_for == datetime(2031, 1, 10, 15, 0, tzinfo=UTC)
    page = html.unescape(client.get(f"/admin/incidents/{row.id}").get_data(as_text=True))
    assert "Jan 10, 2031 10:00 EST" in page and "(15:00 UTC)" in page
    assert choose_zone(client, "UTC").status_code == 302
    page = html.unescape(client.get(f"/admin/incidents/{row.id}").get_data(as_text=True))
    assert "Jan 10, 2031 15:00 UTC" in page


def test_an_unknown_zone_is_refused_beside_its_field(app, client, cast):
    sign_in(client, "vera@example.com")
    answer = choose_zone(client, "Mars/Olympus_Mons")
    assert answer.status_code == 422
    assert "is not a known time zone" in html.unescape(answer.get_data(as_text=True))
    assert db.session.get(User, cast["viewer"].id).time_zone is None
    assert choose_zone(client, "").status_code == 302  # empty: back to the page's zone


def test_the_audit_filter_takes_the_operators_zone(app, client, cast):
    sign_in(client, "alice@example.com")
    choose_zone(client, "Asia/Tokyo")  # UTC+9, no daylight saving
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.time_zone")
    ).one()
    tokyo = event.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    since = f"{tokyo:%Y-%m-%dT%H:%M}"  # read as UTC it would be nine hours later
    until = f"{tokyo - timedelta(minutes=1):%Y-%m-%dT%H:%M}"
    assert "user.time_zone" in client.get(f"/admin/audit?since={since}").get_data(as_text=True)
    assert "user.time_zone" not in client.get(f"/admin/audit?until={until}").get_data(as_text=True)
