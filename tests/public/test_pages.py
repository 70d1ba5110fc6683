"""The published HTML: what a customer reads when something is broken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.html

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.models import Component, ComponentStatus, Incident, IncidentStatus
from statuspage.publishing.snapshot import publish
from tests.public.conftest import maintenance, postmortem, revise


def page(client, path: str = "/"):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.data)


def text(node) -> str:
    return " ".join(node.text_content().split())


def test_the_page_shows_banner_components_by_group_and_open_incidents(app, client, components):
    incident = service.open_incident(
        actor=None,
        name="Payments failing",
        impact="critical",
        body="We are **investigating** failed payments.",
        components={components["API"]: "major_outage"},
    )
    service.post_update(
        actor=None, incident_id=incident.id, status="identified", body="A bad deploy."
    )
    publish()
    doc = page(client)

    assert text(doc.cssselect(".banner h1")[0]) == "Major System Outage"
    groups = {text(g.cssselect(".group-name")[0]): g for g in doc.cssselect("li.group")}
    assert set(groups) == {"Platform", "Notifications"}
    assert "Major outage" in text(groups["Platform"].cssselect(".row .status")[0])
    api_row = next(r for r in groups["Platform"].cssselect("li.component") if "API" in text(r))
    status = api_row.cssselect(".status")[0]
    assert text(status) == "Major outage"  # in words, not only by colour
    assert status.cssselect("use")[0].get("href") == "#i-major_outage"  # and by icon
    assert "Operational" in text(groups["Notifications"].cssselect(".row .status")[0])

    (card,) = doc.cssselect("#open-h + article")
    assert text(card.cssselect("h3")[0]) == "Payments failing"
    steps = [text(s) for s in card.cssselect(".timeline .update-status")]
    assert steps == ["Identified"]  # the latest update; the rest one click away
    (earlier,) = card.cssselect(".earlier a")
    assert (text(earlier), earlier.get("href")) == ("1 earlier update", f"/incidents/{incident.id}")
    whole = page(client, f"/incidents/{incident.id}")
    steps = [text(s) for s in whole.cssselect(".timeline .update-status")]
    assert steps == ["Identified", "Investigating"]
    assert whole.cssselect(".timeline strong")[-1].text == "investigating"  # Markdown rendered
    assert "Platform - API (major outage, was operational)" in text(whole)
    today = text(doc.cssselect("#past-h ~ ul.past")[0])
    assert "Payments failing — Identified, ongoing" in today
    (icon,) = doc.cssselect('link[rel="icon"]')
    favicon = client.get(icon.get("href"))
    assert favicon.status_code == 200 and favicon.mimetype == "image/svg+xml"
    next_by = card.cssselect(".next-update time")[0]
    due = db.session.get(Incident, incident.id).next_update_due
    assert next_by.get("datetime") == due.isoformat(timespec="milliseconds")
    assert next_by.text.endswith("UTC")  # UTC in the HTML; the script localises it

    stored = db.session.get(Incident, incident.id)
    stored.next_update_due = now() - timedelta(minutes=5)  # the promise was broken
    db.session.commit()
    publish()
    late = page(client).cssselect("#open-h + article .next-update")[0]
    assert text(late).startswith("Next update was due by")

    assert doc.cssselect('a[href="/subscribe"]')
    feeds = {link.get("type"): link.get("href") for link in doc.cssselect('link[rel="alternate"]')}
    assert feeds["application/rss+xml"] == "/history.rss"
    assert feeds["application/atom+xml"] == "/history.atom"
    assert [s.get("src").split("?")[0] for s in doc.cssselect("script")] == ["/static/localtime.js"]
    assert all(s.text is None for s in doc.cssselect("script"))  # no inline script (CSP)


def test_active_and_upcoming_maintenance_are_shown(app, client, components):
    website = db.session.get(Component, components["Website"])
    website.status = ComponentStatus.UNDER_MAINTENANCE
    active = maintenance(
        "Database upgrade",
        -timedelta(minutes=10),
        timedelta(hours=1),
        IncidentStatus.IN_PROGRESS,
        [website],
    )
    upcoming = maintenance(
        "Network work",
        timedelta(days=2),
        timedelta(hours=2),
        IncidentStatus.SCHEDULED,
        [db.session.get(Component, components["Webhooks"])],
    )
    publish()
    doc = page(client)
    assert text(doc.cssselect(".banner h1")[0]) == "Service Under Maintenance"
    (in_progress,) = doc.cssselect("#maint-h ~ article")
    assert "Database upgrade" in text(in_progress)
    assert "Platform - Website" in text(in_progress)
    (scheduled,) = doc.cssselect("#upcoming-h ~ article")
    assert "Network work" in text(scheduled)
    window = [t.get("datetime") for t in scheduled.cssselect(".window time")]
    assert window == [
        upcoming.scheduled_for.isoformat(timespec="milliseconds"),
        upcoming.scheduled_until.isoformat(timespec="milliseconds"),
    ]
    assert page(client, f"/incidents/{active.id}").cssselect(".facts")


def test_an_incident_page_shows_every_update_its_revisions_and_the_postmortem(
    app, client, components
):
    incident = service.open_incident(
        actor=None,
        name="Login errors",
        impact="major",
        body="Looking into logins.",
        components={components["Dashboard"]: "partial_outage"},
    )
    service.post_update(actor=None, incident_id=incident.id, status="monitoring", body="Fixed.")
    service.resolve(actor=None, incident_id=incident.id, body="All good again.")
    incident = db.session.get(Incident, incident.id)
    first = min(incident.updates, key=lambda u: u.created_at)
    revise(first, "Looking into login errors for some users.")
    postmortem(incident, "## Root cause\n\nAn expired certificate.")
    publish()

    doc = page(client, f"/incidents/{incident.id}")
    assert text(doc.cssselect("h1")[0]) == "Login errors"
    facts = text(doc.cssselect(".facts")[0])
    assert "Resolved" in facts and "Major impact" in facts and "Platform - Dashboard" in facts
    assert "Root cause" in text(doc.cssselect(".postmortem")[0])
    updates = doc.cssselect(".timeline > li")
    assert [u.get("id") for u in updates] == [
        f"update-{u.id}" for u in sorted(incident.updates, key=lambda u: u.created_at, reverse=True)
    ]
    edited = doc.cssselect(f"#update-{first.id}")[0]
    assert "Looking into login errors for some users." in text(edited.cssselect(".body")[0])
    revisions = edited.cssselect("details.revisions")[0]
    assert "Edited" in text(revisions.cssselect("summary")[0])
    assert "Looking into logins." in text(revisions)
    assert not doc.cssselect(".next-update")  # resolved: nothing more is promised


def test_operator_markdown_is_sanitised(app, client, components):
    incident = service.open_incident(
        actor=None,
        name="Odd text",
        impact="minor",
        body="<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>",
    )
    publish()
    html = client.get(f"/incidents/{incident.id}").data.decode()
    assert "<script>alert" not in html
    assert "onerror" not in html
    hrefs = [a.get("href") for a in lxml.html.fromstring(html).cssselect("a[href]")]
    assert not [h for h in hrefs if h.lower().startswith("javascript")]


def test_history_is_grouped_by_month_with_links_to_every_incident(app, client, components):
    months = {}
    for name, started in [
        ("October outage", datetime(2026, 10, 3, 12, tzinfo=UTC)),
        ("September blip", datetime(2026, 9, 20, 8, tzinfo=UTC)),
        ("Another September one", datetime(2026, 9, 2, 8, tzinfo=UTC)),
    ]:
        incident = service.open_incident(actor=None, name=name, impact="minor", body="x")
        service.resolve(actor=None, incident_id=incident.id, body="Resolved.")
        incident = db.session.get(Incident, incident.id)
        incident.started_at = incident.created_at = started
        incident.resolved_at = started + timedelta(hours=1)
        months[name] = incident.id
    db.session.commit()
    publish()

    index = page(client, "/history")
    listed = [(a.get("href"), text(a)) for a in index.cssselect(".months a")]
    assert ("/history/2026-10", "October 2026") in listed
    assert ("/history/2026-09", "September 2026") in listed
    september = page(client, "/history/2026-09")
    names = [text(a) for a in september.cssselect(".history h2 a")]
    assert names == ["September blip", "Another September one"]
    assert september.cssselect('a[rel="next"]')[0].get("href") == "/history/2026-10"
    for incident_id in months.values():
        assert client.get(f"/incidents/{incident_id}").status_code == 200
    assert client.get("/history/2026-08").status_code == 404


def test_past_incidents_cover_the_last_week(app, client, components):
    hiccup = service.open_incident(actor=None, name="Today's hiccup", impact="minor", body="x")
    service.open_incident(actor=None, name="Still open", impact="minor", body="y")
    service.resolve(actor=None, incident_id=hiccup.id, body="Gone.")
    publish()
    doc = page(client)
    days = doc.cssselect("#past-h ~ h3.day")
    assert len(days) == 7
    assert text(days[0]) == now().strftime("%b %-d, %Y")
    past = text(doc.cssselect("#past-h ~ ul.past")[0])
    assert "Today's hiccup" in past
    # Today names what is still open (shown in full under current incidents), first.
    assert past.index("Still open — Investigating, ongoing") < past.index("Today's hiccup")
    earlier = " ".join(text(u) for u in doc.cssselect("#past-h ~ ul.past")[1:])
    assert "Still open" not in earlier
    assert "No incidents reported." in text(doc.cssselect("#past-h")[0].getparent())


def test_components_shown_only_when_degraded_stay_hidden_until_then(app, client, components):
    webhooks = db.session.get(Component, components["Webhooks"])
    webhooks.only_show_if_degraded = True
    db.session.commit()
    publish()
    assert "Webhooks" not in text(page(client).cssselect(".components")[0])
    service.open_incident(
        actor=None,
        name="Webhook delays",
        impact="minor",
        body="x",
        components={webhooks.id: "degraded_performance"},
    )
    publish()
    assert "Webhooks" in text(page(client).cssselect(".components")[0])


def test_an_incident_page_is_rendered_again_when_anything_it_shows_changes(app, client, components):
    incident = service.open_incident(
        actor=None,
        name="Sync delays",
        impact="minor",
        body="Looking.",
        components={components["Webhooks"]: "degraded_performance"},
    )
    publish()
    path = f"/incidents/{incident.id}"
    assert "Notifications - Webhooks" in text(page(client, path))
    db.session.get(Component, components["Webhooks"]).name = "Outgoing webhooks"
    db.session.commit()
    publish()
    assert "Notifications - Outgoing webhooks" in text(page(client, path))
    update = db.session.get(Incident, incident.id).updates[0]
    revise(update, "Looking into sync delays.")
    publish()
    doc = page(client, path)
    assert "Looking into sync delays." in text(doc.cssselect(".timeline .body")[0])
    assert doc.cssselect("details.revisions")
