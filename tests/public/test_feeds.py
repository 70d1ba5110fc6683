"""RSS and Atom: one entry per update, ids that never change, valid for feed readers."""

from __future__ import annotations

import re
from datetime import timedelta

import feedparser
from lxml import etree

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import Component, Incident, IncidentStatus
from statuspage.publishing.snapshot import publish
from tests.public.conftest import maintenance

RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
    r"Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}$"
)
ATOM = "{http://www.w3.org/2005/Atom}"


def fetch(client, path: str, mimetype: str):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == mimetype
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed, response.data


def both(client, base: str = "/history"):
    rss, rss_raw = fetch(client, f"{base}.rss", "application/rss+xml")
    atom, atom_raw = fetch(client, f"{base}.atom", "application/atom+xml")
    return rss, atom, rss_raw, atom_raw


def test_each_update_is_an_entry_with_its_facts(app, client, components):
    incident = service.open_incident(
        actor=None,
        name="Checkout errors",
        impact="major",
        body="Investigating **errors**.",
        components={components["API"]: "partial_outage"},
    )
    update = service.post_update(
        actor=None, incident_id=incident.id, status="identified", body="Cause found."
    )
    publish()
    rss, atom, _, _ = both(client)
    for feed in (rss, atom):
        assert len(feed.entries) == 2
        newest = feed.entries[0]
        assert newest.title == "Checkout errors — Identified"
        assert newest.link == f"http://status.test/incidents/{incident.id}#update-{update.id}"
        assert newest.id == newest.link
        content = newest.get("content", [{}])[0].get("value") or newest.summary
        assert "Cause found." in content
        assert "Platform - API" in feed.entries[1].get("content", [{}])[0].get(
            "value", feed.entries[1].summary
        )
        due = db.session.get(Incident, incident.id).next_update_due
        assert f"Next update by {due.strftime('%b %-d, %Y %H:%M')} UTC" in content
    assert rss.feed.title == atom.feed.title == "Status history"


def test_ids_are_unique_and_stable_and_a_new_update_is_a_new_entry(app, client, components):
    first = service.open_incident(actor=None, name="One", impact="minor", body="a")
    service.post_update(actor=None, incident_id=first.id, status="monitoring", body="b")
    second = service.open_incident(actor=None, name="Two", impact="minor", body="c")
    publish()
    rss, atom, _, _ = both(client)
    before = {feed: [e.id for e in f.entries] for feed, f in (("rss", rss), ("atom", atom))}
    assert len(set(before["rss"])) == len(before["rss"]) == 3
    publish()
    rss, atom, _, _ = both(client)
    assert [e.id for e in rss.entries] == before["rss"]
    assert [e.id for e in atom.entries] == before["atom"]

    added = service.post_update(actor=None, incident_id=second.id, status="resolved", body="d")
    publish()
    rss, atom, _, _ = both(client)
    for feed, old in ((rss, before["rss"]), (atom, before["atom"])):
        ids = [e.id for e in feed.entries]
        assert ids[0].endswith(f"#update-{added.id}")
        assert ids[1:] == old


def test_feeds_follow_the_validator_rules(app, client, components):
    service.open_incident(actor=None, name="Slow", impact="minor", body="x")
    publish()
    _, _, rss_raw, atom_raw = both(client)
    rss = etree.fromstring(rss_raw)
    channel = rss.find("channel")
    assert rss.get("version") == "2.0"
    self_link = channel.find(f"{ATOM}link")
    assert self_link.get("rel") == "self"
    assert self_link.get("href") == "http://status.test/history.rss"
    assert self_link.get("type") == "application/rss+xml"
    for item in channel.findall("item"):
        assert RFC822.match(item.findtext("pubDate")), item.findtext("pubDate")
        assert item.find("guid").get("isPermaLink") == "true"
    assert RFC822.match(channel.findtext("lastBuildDate"))

    atom = etree.fromstring(atom_raw)
    assert atom.findtext(f"{ATOM}id") == "http://status.test/history.atom"
    assert atom.find(f"{ATOM}author/{ATOM}name").text == "Status"
    assert atom.findtext(f"{ATOM}updated")
    links = {link.get("rel"): link.get("href") for link in atom.findall(f"{ATOM}link")}
    assert links["self"] == "http://status.test/history.atom"
    for entry in atom.findall(f"{ATOM}entry"):
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
        assert entry.find(f"{ATOM}content").get("type") == "html"


def test_maintenance_is_in_the_feeds_and_component_feeds_only_carry_their_component(
    app, client, components
):
    api = db.session.get(Component, components["API"])
    work = maintenance(
        "Database upgrade", timedelta(days=1), timedelta(hours=2), IncidentStatus.SCHEDULED, [api]
    )
    service.open_incident(
        actor=None,
        name="Email delays",
        impact="minor",
        body="x",
        components={components["Email delivery"]: "degraded_performance"},
    )
    publish()
    rss, atom, _, _ = both(client)
    assert {e.title for e in rss.entries} == {
        "Database upgrade — Scheduled",
        "Email delays — Investigating",
    }
    assert "Scheduled for" in atom.entries[-1].content[0].value or "Scheduled for" in (
        atom.entries[0].content[0].value
    )
    api_rss, api_atom, _, _ = both(client, f"/components/{api.id}/history")
    assert [e.title for e in api_rss.entries] == ["Database upgrade — Scheduled"]
    assert [e.link.split("#")[0] for e in api_atom.entries] == [
        f"http://status.test/incidents/{work.id}"
    ]
    assert api_atom.feed.links[0].href.startswith("http://status.test")
