"""RSS 2.0 and Atom 1.0 history feeds, site-wide and per component, built with feedgen.

Titles are plain text (no control characters, no markup, which feed readers would show
or refuse) and no text carries a character XML cannot hold, whatever a stored row holds.

A feed reader is a subscriber too, so each *update* is an entry (not each incident): a
reader sees "Monitoring" and "Resolved" as news, not as a silent edit of an old item. An
entry's id is the permalink of its update, unique and stable across re-publishes. Feeds
carry the latest updates only; the history pages hold the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator
from flask_babel import gettext as _

from statuspage import labels
from statuspage.models import Component, Incident, IncidentUpdate
from statuspage.publishing.pages import feed_context, templates
from statuspage.publishing.state import PublicState
from statuspage.text_rules import plain_line, xml_safe

FEED_UPDATES = 100
COMPONENT_FEED_UPDATES = 25


Entry = tuple[Incident, IncidentUpdate]


def entries(incidents: Iterable[Incident]) -> list[Entry]:
    """Every update of ``incidents``, newest first."""
    pairs = [(i, u) for i in incidents for u in i.updates]
    return sorted(pairs, key=lambda pair: (pair[1].created_at, pair[1].id), reverse=True)


def update_url(state: PublicState, incident: Incident, update: IncidentUpdate) -> str:
    return f"{state.base_url}/incidents/{incident.id}#update-{update.id}"


def _feed(
    state: PublicState, title: str, path: str, description: str, updated: datetime
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(f"{state.base_url}{path}")
    feed.title(plain_line(title))
    feed.subtitle(plain_line(description))
    feed.author({"name": plain_line(state.page.name), "uri": state.base_url})
    feed.link(href=f"{state.base_url}/", rel="alternate")
    feed.language(state.page.default_language or "en")
    feed.generator("statuspage")
    feed.updated(updated)
    return feed


# Entry bodies by what they show: feeds carry the latest updates, mostly the same ones on
# every publish, so a worker renders each body once while it stays the same.
_bodies: dict[tuple[Any, ...], str] = {}


class Contents:
    """Each update's entry body, rendered once however many feeds carry it."""

    def __init__(self, state: PublicState) -> None:
        self.template = templates().get_template("public/feed_entry.html")
        self.context = feed_context(state)
        self.base_url = state.base_url

    def __call__(self, incident: Incident, update: IncidentUpdate) -> str:
        key = (
            self.base_url,
            incident.id,
            incident.scheduled_for,
            incident.scheduled_until,
            update.id,
            str(update.status),
            update.created_at,
            update.body,
            update.next_update_due,
            tuple(
                (a.component.display_name, str(a.old_status), str(a.new_status))
                for a in update.affected
            ),
        )
        body = _bodies.get(key)
        if body is None:
            if len(_bodies) > 16384:
                _bodies.clear()
            body = _bodies[key] = self.template.render(
                self.context, incident=incident, update=update
            )
        return body


def build(
    state: PublicState,
    contents: Contents,
    entries: list[Entry],
    title: str,
    path: str,
    description: str,
    updated: datetime,
) -> tuple[bytes, bytes]:
    """(RSS, Atom) documents of ``entries``; ``path`` has no extension."""
    rss = _feed(state, title, path + ".rss", description, updated)
    rss.link(href=f"{state.base_url}{path}.rss", rel="self", type="application/rss+xml")
    atom = _feed(state, title, path + ".atom", description, updated)
    atom.link(href=f"{state.base_url}{path}.atom", rel="self", type="application/atom+xml")
    for incident, update in entries:
        link = update_url(state, incident, update)
        title_text = plain_line(f"{incident.name} — {labels.incident(update.status)}")
        content = xml_safe(contents(incident, update))
        for feed in (rss, atom):
            entry = feed.add_entry(order="append")
            entry.guid(link, permalink=True)
            entry.title(title_text)
            entry.link(href=link, rel="alternate")
            entry.published(update.created_at)
            entry.updated(max(update.updated_at, update.created_at))
            entry.category(term=str(incident.impact), label=f"Impact: {incident.impact}")
            if feed is rss:
                entry.description(content)
            else:
                entry.content(content, type="html")
    return rss.rss_str(pretty=False), atom.atom_str(pretty=False)


def component_documents(
    state: PublicState, contents: Contents, everything: list[Entry]
) -> dict[str, bytes]:
    """Every component's feeds, from every entry newest first."""
    touching: dict[str, list[Entry]] = {c.id: [] for c in state.components}
    for incident, update in everything:
        for component in incident.components:
            found = touching.get(component.id)
            if found is not None and len(found) < COMPONENT_FEED_UPDATES:
                found.append((incident, update))
    files: dict[str, bytes] = {}
    for component in state.components:
        files.update(component_feeds(state, contents, component, touching[component.id]))
    return files


def site_feeds(state: PublicState, contents: Contents, everything: list[Entry]) -> dict[str, bytes]:
    """The site-wide feeds, from every entry newest first (all that its latest updates
    belong to, at least)."""
    files: dict[str, bytes] = {}
    files["history.rss"], files["history.atom"] = build(
        state,
        contents,
        everything[:FEED_UPDATES],
        _("%(page)s history", page=state.title),
        "/history",
        _("Incidents and maintenance at %(page)s", page=state.page.name),
        state.updated_at,
    )
    return files


def component_entries(everything: list[Entry], component_id: str) -> list[Entry]:
    """The entries of one component's feed, from entries newest first."""
    return [e for e in everything if any(c.id == component_id for c in e[0].components)][
        :COMPONENT_FEED_UPDATES
    ]


def component_feeds(
    state: PublicState, contents: Contents, component: Component, entries: list[Entry]
) -> dict[str, bytes]:
    """One component's feeds. They change only when their own entries (or the component's
    name) do, so they say when their entries last changed, not when the page did."""
    base = f"/components/{component.id}/history"
    updated = max(
        (max(u.updated_at, u.created_at) for _, u in entries), default=component.created_at
    )
    rss, atom = build(
        state,
        contents,
        entries,
        _("%(component)s · %(page)s history", component=component.display_name, page=state.title),
        base,
        _("Incidents and maintenance affecting %(component)s", component=component.display_name),
        updated,
    )
    return {base[1:] + ".rss": rss, base[1:] + ".atom": atom}
