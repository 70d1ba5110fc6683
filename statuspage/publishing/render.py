"""The rendering side of publishing: which files of the site a publish must (re)write.

A full render reads every record and renders every file. An incremental one starts from
the served snapshot's manifest, reads what changed since (see changes), and renders the
files that show it: the changed incidents' pages, the months they are listed under, the
feeds of the components they affect, and the few files every change shows (the home page,
the history index, the site feeds, ``/api/v2/*``, badges). Where the rows say something an
incremental render cannot follow, it gives way to a full one. Where the files go is the
writer's business (see snapshot): a ``Render`` says which files changed and which left.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import joinedload

from statuspage import branding
from statuspage.extensions import db
from statuspage.i18n import speaking
from statuspage.lib.clock import iso, now
from statuspage.models import Component, Incident, Page
from statuspage.publishing import api_v2, calendar, changes, embed, feeds, months, pages, quarantine
from statuspage.publishing.manifest import Manifest, site_version
from statuspage.publishing.quarantine import Problem
from statuspage.publishing.state import (
    PAST_DAYS,
    RECENT_INCIDENTS,
    Month,
    PublicState,
    load_incidents,
    load_state,
    month_key,
)

log = logging.getLogger(__name__)


@dataclass
class Render:
    files: dict[str, bytes]  # full: every file; incremental: every file that may differ
    removed: set[str]  # files the site no longer has
    full: bool
    manifest: Manifest
    problems: list[Problem]  # records left out (see quarantine)
    # (folder of the copy, month key) -> the entries the month page was built from
    entries: dict[tuple[str, str], dict[str, months.Entry]]


class Unfollowable(Exception):
    """The rows changed in a way only a full render can follow (caught, never shown)."""


def _json(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _assets() -> dict[str, str]:
    return pages.asset_versions(current_app.static_folder or "static")


def head_files(
    state: PublicState, listed: list[Month], contents: feeds.Contents, entries: list[feeds.Entry]
) -> dict[str, bytes]:
    """The files every change may show: rendered on every publish, they cost the number of
    components and open incidents, not the history."""
    status = api_v2.status_doc(state)
    files = {f"api/v2/{name}": _json(doc) for name, doc in api_v2.documents(state).items()}
    files["widget.json"] = _json(embed.widget_doc(state))
    files.update(
        pages.in_every_language(
            state,
            status,
            lambda context: {
                "index.html": pages.index_page(context),
                "history.html": pages.history_page(context, listed),
            },
        )
    )
    with speaking(state.page.default_language):
        files.update(feeds.site_feeds(state, contents, entries))
    files.update(embed.documents(state))
    files.update(calendar.documents(state))
    files.update(branding.documents(state.page))
    static = Path(current_app.static_folder or "static")
    for name in pages.ASSETS:
        files[f"static/{name}"] = (static / name).read_bytes()
    return files


def render_state(state: PublicState) -> dict[str, bytes]:
    """Every public file of ``state``, keyed by its path in the snapshot."""
    listed = state.months()
    contents, entries = feeds.Contents(state), feeds.entries(state.everything)
    files = head_files(state, listed, contents, entries)
    files.update(
        pages.in_every_language(
            state,
            api_v2.status_doc(state),
            lambda context: {
                **pages.incident_pages(context, state.everything),
                **{
                    f"history/{month.key}.html": months.page(
                        context, listed, index, months.entries(month.incidents, context["folder"])
                    )
                    for index, month in enumerate(listed)
                },
            },
        )
    )
    pages.forget_except({i.id for i in state.everything})
    with speaking(state.page.default_language):
        files.update(feeds.component_documents(state, contents, entries))
    return files


def render(
    previous: Manifest | None,
    known: list[Problem],
    full: bool = False,
    generation: Path | None = None,
) -> Render:
    """The files to write for the current rows: what changed since ``previous`` was
    rendered, or everything when ``full``, when there is no ``previous`` or when the
    templates, the code or the page's settings differ from its. ``generation`` holds the
    history files ``previous`` shares, with the month entries they were built from."""
    at = now()
    version = site_version(_assets())
    page = Page.get()
    db.session.commit()  # the page row, when this render created it
    digest = changes.page_digest(page)
    if (
        not full
        and previous is not None
        and (previous.version, previous.page)
        == (
            version,
            digest,
        )
    ):
        components = db.select(Component).options(joinedload(Component.group))
        found = changes.since(previous, db.session.scalars(components).all())
        if found is not None:
            try:
                return _incremental(previous, found, known, at, generation)
            except Exception:
                log.exception("an incremental render failed; rendering the whole site")
                db.session.rollback()
    return _full(known, version, digest, at)


def _full(known: list[Problem], version: str, digest: str, at: datetime) -> Render:
    state = load_state(current_app.config["BASE_URL"], at)
    files, problems = quarantine.render_site(render_state, state, known)
    left_out = {p.id for p in problems if p.kind == "incident"}
    kept = [i for i in state.everything if i.id not in left_out]
    listed = {}
    for language, folder in pages.copies(state):
        with speaking(language):  # rendered by render_state already: found in months' cache
            for month in PublicState.months_of(kept):
                listed[folder, month.key] = months.entries(month.incidents, folder)
    manifest = Manifest(
        version=version,
        generation="",
        rendered_at=iso(state.at) or "",
        page=digest,
        components={c.id: c.display_name for c in state.components},
        incidents={i.id: None if i.id in left_out else month_key(i) for i in state.everything},
    )
    return Render(files, set(), True, manifest, problems, listed)


def _incremental(
    previous: Manifest,
    found: changes.Changes,
    known: list[Problem],
    at: datetime,
    generation: Path | None,
) -> Render:
    wanted = found.incidents | changes.shown_ids(
        found.components,
        RECENT_INCIDENTS,
        feeds.FEED_UPDATES,
        feeds.COMPONENT_FEED_UPDATES,
    )
    listed = changes.past_day_ids(at, PAST_DAYS) - wanted
    loaded = load_state(current_app.config["BASE_URL"], at, wanted, listed)
    # Committed after the changes were read: the next publish (which its writer asks for)
    # renders them; listing them now could link to pages not written yet.
    unseen = {i.id for i in loaded.everything} - previous.incidents.keys() - found.incidents
    state = loaded.without(unseen, set()) if unseen else loaded
    if found.incidents - {i.id for i in state.everything}:
        raise Unfollowable("a changed incident is gone")

    still = quarantine.still_failing(state, known)
    rows = {c.id for c in state.components} | {i.id for i in state.everything}
    carried = [p for p in known if p.id not in rows]
    out_incidents = {p.id for p in still + carried if p.kind == "incident"}
    out_components = {p.id for p in still if p.kind == "component"}
    back = {p.id for p in known if p.kind == "component"} - out_components
    shown = state.without(out_incidents, out_components)

    months_of = dict(previous.incidents)
    for incident in state.everything:
        if incident.id in found.incidents:
            months_of[incident.id] = None if incident.id in out_incidents else month_key(incident)
    counts: dict[str, int] = {}
    for key in months_of.values():
        if key is not None:
            counts[key] = counts.get(key, 0) + 1
    listed = [Month.named(key, counts[key]) for key in sorted(counts, reverse=True)]

    contents = feeds.Contents(shown)
    entries = feeds.entries(shown.everything)
    files = head_files(shown, listed, contents, entries)
    changed = [i for i in shown.everything if i.id in found.incidents]
    status = api_v2.status_doc(shown)

    dirty = {previous.incidents.get(i) for i in found.incidents} | {
        months_of[i] for i in found.incidents
    }
    before = sorted(previous.months, reverse=True)
    moved = _moved_neighbours(before, [m.key for m in listed])
    dirty |= moved
    removed = {
        f"{folder}history/{key}.html"
        for key in set(before) - counts.keys()
        for folder in pages.folders(shown)
    }
    members = {
        m.key: {i for i, key in months_of.items() if key == m.key} for m in listed if m.key in dirty
    }
    fresh = {i.id: i for i in changed}
    built: dict[tuple[str, str], dict[str, months.Entry]] = {}

    def month_pages(context: dict[str, Any]) -> dict[str, bytes]:
        """The pages of the months whose entries or neighbours differ from what their
        pages were built from (a changed row may show the same: an open incident, or one
        read again because it was stamped just before the last render)."""
        folder, rendered = context["folder"], {}
        for index, month in enumerate(listed):
            if month.key not in dirty:
                continue
            kept = months.read(generation, folder, month.key)
            entries = _month_entries(month.key, members[month.key], fresh, kept, folder)
            if month.key in moved or entries != kept:
                built[folder, month.key] = entries
                rendered[f"history/{month.key}.html"] = months.page(context, listed, index, entries)
        return rendered

    files.update(
        pages.in_every_language(
            shown,
            status,
            lambda context: {**pages.incident_pages(context, changed), **month_pages(context)},
        )
    )

    for component in shown.components:
        if component.id in found.components | back:
            with speaking(shown.page.default_language):
                files.update(
                    feeds.component_feeds(
                        shown, contents, component, feeds.component_entries(entries, component.id)
                    )
                )

    manifest = Manifest(
        version=previous.version,
        generation=previous.generation,
        rendered_at=iso(at) or "",
        page=previous.page,
        components={c.id: c.display_name for c in state.components},
        incidents=months_of,
        pending=dict(previous.pending),
    )
    return Render(files, removed, False, manifest, still + carried, built)


def _month_entries(
    key: str,
    members: set[str],
    fresh: dict[str, Incident],
    kept: dict[str, months.Entry],
    folder: str,
) -> dict[str, months.Entry]:
    """The entries of month ``key`` in the copy under ``folder``: rendered for the
    incidents that changed, as ``kept`` for the others, and read and rendered for any the
    generation did not keep."""
    listed = {
        i: months.entry(fresh[i], folder) if i in fresh else kept[i]
        for i in members
        if i in fresh or i in kept
    }
    missing = members - listed.keys()
    for incident in load_incidents(missing, again=True) if missing else []:
        if month_key(incident) != key:
            raise Unfollowable(f"month {key} changed while it was read")
        listed[incident.id] = months.entry(incident, folder)
    if listed.keys() != members:
        raise Unfollowable(f"month {key} changed while it was read")
    return listed


def _moved_neighbours(before: list[str], after: list[str]) -> set[str]:
    """Months whose newer or older neighbour is not what it was (a month came or went)."""

    def neighbours(keys: list[str]) -> dict[str, tuple[str | None, str | None]]:
        return {
            key: (keys[i - 1] if i > 0 else None, keys[i + 1] if i + 1 < len(keys) else None)
            for i, key in enumerate(keys)
        }

    old = neighbours(before)
    return {key for key, pair in neighbours(after).items() if old.get(key) != pair}
