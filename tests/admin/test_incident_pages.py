"""The incident page: post, correct, resolve in one action, postmortem, delivery ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from statuspage.extensions import db
from statuspage.incidents import maintenance, service
from statuspage.lib.clock import now
from statuspage.models import (
    AuditEvent,
    Channel,
    Component,
    Delivery,
    DeliveryState,
    Incident,
    IncidentUpdate,
)
from tests.signin import csrf_token, login


@pytest.fixture
def responder(client, cast):
    assert login(client, "rob@example.com").status_code == 302
    return client


@pytest.fixture
def incident(cast, components):
    return service.open_incident(
        actor=cast["responder"],
        name="API errors",
        impact="major",
        body="Investigatng",
        components={components["API"]: "major_outage", components["Website"]: "partial_outage"},
    )


def test_correcting_an_update_keeps_the_earlier_text(responder, incident):
    (first,) = incident.updates
    form = responder.get(f"/admin/updates/{first.id}/edit").get_data(as_text=True)
    assert "Save correction" in form and "Investigatng" in form
    token = csrf_token(responder, f"/admin/updates/{first.id}/edit")
    response = responder.post(
        f"/admin/updates/{first.id}/edit",
        data={"csrf_token": token, "corrected_body": "Investigating"},
    )
    assert response.status_code == 302
    page = responder.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    assert "(edited)" in page and "Earlier text" in page and "Investigatng" in page
    empty = responder.post(
        f"/admin/updates/{first.id}/edit", data={"csrf_token": token, "body": ""}
    )
    assert empty.status_code == 422
    db.session.expire_all()
    assert db.session.get(IncidentUpdate, first.id).body == "Investigating"


def test_resolve_in_one_action(responder, incident, components):
    token = csrf_token(responder, f"/admin/incidents/{incident.id}")
    response = responder.post(
        f"/admin/incidents/{incident.id}/resolve",
        data={"csrf_token": token, "resolution": "All fixed."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).status == "resolved"
    assert {db.session.get(Component, components[n]).status for n in ("API", "Website")} == {
        "operational"
    }
    page = responder.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    assert "Publish postmortem" in page and "Post an update" not in page
    response = responder.post(
        f"/admin/incidents/{incident.id}/postmortem",
        data={"csrf_token": token, "postmortem_body": "## What happened"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).postmortem_body == "## What happened"


def test_postmortem_on_an_open_incident_is_refused(responder, incident):
    token = csrf_token(responder, f"/admin/incidents/{incident.id}")
    response = responder.post(
        f"/admin/incidents/{incident.id}/postmortem",
        data={"csrf_token": token, "postmortem_body": "Too early"},
    )
    assert response.status_code == 422 and b"once the incident is resolved" in response.data


def test_the_ledger_shows_failures_and_retries_dead_deliveries(responder, incident):
    (row,) = db.session.scalars(select(Delivery)).all()
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == row.id)
        .values(state=DeliveryState.DEAD, attempts=8, last_error="HTTP 503 from the far end")
    )
    db.session.commit()
    page = responder.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    assert "HTTP 503 from the far end" in page and ">Retry</button>" in page
    token = csrf_token(responder, f"/admin/incidents/{incident.id}")
    response = responder.post(f"/admin/deliveries/{row.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Delivery, row.id)
    assert (row.state, row.attempts) == ("pending", 8)
    again = responder.post(f"/admin/deliveries/{row.id}/retry", data={"csrf_token": token})
    assert again.status_code == 303
    retries = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "delivery.retry"))
    assert len(retries.all()) == 1


def test_viewers_see_the_incident_but_cannot_act(client, cast, incident):
    login(client, "vera@example.com")
    page = client.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    assert "API errors" in page and "Post an update" not in page and "Edit text" not in page
    token = csrf_token(client, "/admin/login")
    for path in (
        f"/admin/incidents/{incident.id}",
        f"/admin/incidents/{incident.id}/resolve",
        f"/admin/updates/{incident.updates[0].id}/edit",
    ):
        response = client.post(path, data={"csrf_token": token, "body": "x", "status": "resolved"})
        assert response.status_code == 403, path
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).status == "investigating"


def test_scheduling_maintenance_from_the_admin(responder, components):
    token = csrf_token(responder, "/admin/maintenance")
    start = now() + timedelta(days=2)
    data = {
        "csrf_token": token,
        "name": "Network work",
        "body": "Switch replacement",
        "scheduled_for": start.strftime("%Y-%m-%dT%H:%M"),
        "scheduled_until": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "components": [components["API"]],
        "auto_in_progress": "y",
        "auto_completed": "y",
    }
    bad = responder.post(
        "/admin/maintenance", data={**data, "scheduled_until": data["scheduled_for"]}
    )
    assert bad.status_code == 422 and b"must be after scheduled_for" in bad.data
    response = responder.post("/admin/maintenance", data=data)
    assert response.status_code == 302
    row = db.session.scalars(select(Incident)).one()
    assert (row.status, row.scheduled_for.strftime("%H:%M")) == (
        "scheduled",
        start.strftime("%H:%M"),
    )
    assert [c.name for c in row.components] == ["API"]


def window(cast, start, components=()) -> Incident:
    """A two-hour maintenance window scheduled by the responder."""
    return maintenance.schedule(
        actor=cast["responder"],
        name="Network work",
        body="Switch replacement",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=components,
    )


def test_moving_a_window_from_the_admin_announces_it(responder, cast, components):
    start = (now() + timedelta(days=2)).replace(second=0, microsecond=0)
    row = window(cast, start, [components["API"]])
    page = responder.get(f"/admin/incidents/{row.id}").get_data(as_text=True)
    assert "Move the window" in page and start.strftime("%Y-%m-%dT%H:%M") in page
    token = csrf_token(responder, f"/admin/incidents/{row.id}")
    later = start + timedelta(days=1)
    data = {
        "csrf_token": token,
        "scheduled_for": later.strftime("%Y-%m-%dT%H:%M"),
        "scheduled_until": later.strftime("%Y-%m-%dT%H:%M"),
        "notify": "y",
    }
    path = f"/admin/maintenance/{row.id}/reschedule"
    bad = responder.post(path, data=data)
    assert bad.status_code == 422 and b"must be after scheduled_for" in bad.data
    assert responder.post(path, data={**data, "csrf_token": ""}).status_code == 400
    db.session.expire_all()
    assert (db.session.get(Incident, row.id).scheduled_for, len(row.updates)) == (start, 1)

    end = later + timedelta(hours=3)
    moved = responder.post(path, data={**data, "scheduled_until": end.strftime("%Y-%m-%dT%H:%M")})
    assert moved.status_code == 302
    db.session.expire_all()
    row = db.session.get(Incident, row.id)
    assert (row.scheduled_for, row.scheduled_until) == (later, end)
    assert row.updates[0].body == maintenance.moved_message(later, end)
    assert row.updates[0].deliver_notifications is True
    audit = db.session.scalars(select(AuditEvent.action)).all()
    assert "maintenance.reschedule" in audit


def test_cancelling_a_window_from_the_admin_announces_it(responder, cast, components):
    row = window(cast, now() + timedelta(days=2), [components["API"]])
    page = responder.get(f"/admin/incidents/{row.id}").get_data(as_text=True)
    assert "Cancel the maintenance" in page
    token = csrf_token(responder, f"/admin/incidents/{row.id}")
    path = f"/admin/maintenance/{row.id}/cancel"
    assert responder.post(path, data={"csrf_token": ""}).status_code == 400
    done = responder.post(path, data={"csrf_token": token, "announcement": "", "notify": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    row = db.session.get(Incident, row.id)
    assert (row.status, row.calendar_sequence) == ("completed", 1)
    assert row.cancelled_at is not None
    assert row.updates[0].body == maintenance.CANCELLED_BODY
    assert "maintenance.cancel" in db.session.scalars(select(AuditEvent.action)).all()
    page = responder.get(f"/admin/incidents/{row.id}").get_data(as_text=True)
    assert "Cancel the maintenance" not in page
    again = responder.post(path, data={"csrf_token": token, "announcement": ""})
    assert again.status_code == 422


def test_viewers_cannot_move_a_window(client, cast, components):
    start = now() + timedelta(days=2)
    row = window(cast, start)
    assert login(client, "vera@example.com").status_code == 302
    token = csrf_token(client, f"/admin/incidents/{row.id}")
    response = client.post(
        f"/admin/maintenance/{row.id}/reschedule",
        data={
            "csrf_token": token,
            "scheduled_for": "2031-01-01T00:00",
            "scheduled_until": "2031-01-01T02:00",
        },
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Incident, row.id).scheduled_for == start


def test_the_operator_chooses_which_channels_announce(responder, components):
    slack = Channel(kind="slack", name="Status Slack", config={})
    webhook = Channel(kind="webhook", name="Partner hook", config={"url": "https://example.com/h"})
    db.session.add_all([slack, webhook])
    db.session.commit()
    form = responder.get("/admin/incidents/new").get_data(as_text=True)
    assert "Status Slack" in form and "Partner hook" in form
    token = csrf_token(responder, "/admin/incidents/new")
    data = {
        "csrf_token": token,
        "name": "Outage",
        "impact": "minor",
        "status": "investigating",
        "body": "Looking",
        "notify": "y",
        "channels-shown": "1",
    }
    unknown = responder.post("/admin/incidents/new", data={**data, "channels": ["999"]})
    assert unknown.status_code == 422 and b"no announcing channel 999" in unknown.data
    assert db.session.scalars(select(Incident)).all() == []
    response = responder.post("/admin/incidents/new", data={**data, "channels": [str(slack.id)]})
    assert response.status_code == 302
    targets = db.session.scalars(select(Delivery.target_kind).order_by(Delivery.id)).all()
    assert targets == ["page", "channel"]
    assert db.session.scalars(
        select(Delivery.channel_id).where(Delivery.target_kind == "channel")
    ).all() == [slack.id]
    incident = db.session.scalars(select(Incident)).one()
    # Without a choice on the form (e.g. the API), every announcing channel is told.
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    channel_rows = db.session.scalars(
        select(Delivery.channel_id).where(Delivery.target_kind == "channel").order_by(Delivery.id)
    ).all()
    assert channel_rows == [slack.id, slack.id, webhook.id]


def test_nul_bytes_and_huge_ids_are_refused_not_crashed(responder, incident):
    token = csrf_token(responder, "/admin/incidents/new")
    response = responder.post(
        "/admin/incidents/new",
        data={
            "csrf_token": token,
            "name": "x\u0000",
            "impact": "minor",
            "status": "identified",
            "body": "y",
        },
    )
    assert response.status_code == 400
    assert responder.get("/admin/incidents/%00").status_code == 400
    assert responder.post("/admin/deliveries/99999999999/retry").status_code == 404
    assert responder.get("/admin/incidents/new?template=%C2%B9").status_code == 200
    assert len(db.session.scalars(select(Incident)).all()) == 1


def test_no_news_yet_keeps_the_promise_in_one_action(responder, incident):
    service.post_update(
        actor=None, incident_id=incident.id, status="identified", body="The cause is known."
    )
    page = responder.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    assert "We are still working on a fix; next update by" in page
    token = csrf_token(responder, f"/admin/incidents/{incident.id}")
    response = responder.post(f"/admin/incidents/{incident.id}/no-news", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Incident, incident.id)
    latest = max(row.updates, key=lambda u: u.created_at)
    assert row.status == latest.status == "identified"
    assert not latest.affected
    due = latest.next_update_due
    assert due == latest.created_at + timedelta(minutes=30)  # major: 30 minutes
    assert latest.body == f"We are still working on a fix; next update by {due:%H:%M} UTC."
    assert {d.update_id for d in db.session.scalars(select(Delivery))} >= {latest.id}


def test_no_news_needs_the_token_and_an_open_incident(responder, incident):
    url = f"/admin/incidents/{incident.id}/no-news"
    assert responder.post(url, data={}).status_code == 400
    service.resolve(actor=None, incident_id=incident.id, body="Fixed.")
    token = csrf_token(responder, f"/admin/incidents/{incident.id}")
    assert responder.post(url, data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert len(db.session.get(Incident, incident.id).updates) == 2
