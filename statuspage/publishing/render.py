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

from flask import current_app

from statuspage import branding
from statuspage.extensions import db
from statuspage.i18n import speaking
from statuspage.lib.clock import iso, now
from statuspage.models import Component, Page
from statuspage.publishing import api_v2, calendar, changes, embed, feeds, pages, quarantine
from statuspage.publishing.manifest import Manifest, site_version
from statuspage.publishing.quarantine import Problem
from statuspage.publishing.state import (
    PAST_DAYS,
    RECENT_INCIDENTS,
    Month,
    PublicState,
    history_order,
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


class Unfollowable(Exception):
    """The rows changed in a way only a full render can follow (caught, never shown)."""


def _json(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _assets() -> dict[str, str]:
    return pages.asset_versions(current_app.static_folder or "static")


def head_files(
    state: PublicState, months: list[Month], contents: feeds.Contents, entries: list[feeds.Entry]
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
                "history.html": pages.history_page(context, months),
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
    months = state.months()
    contents, entries = feeds.Contents(state), feeds.entries(state.everything)
    files = head_files(state, months, contents, entries)
    files.update(
        pages.in_every_language(
            state,
            api_v2.status_doc(state),
            lambda context: {
                **pages.incident_pages(context, state.everything),
                **{
                    f"history/{month.key}.html": pages.month_page(context, months, index)
                    for index, month in enumerate(months)
                },
            },
        )
    )
    pages.forget_except({i.id for i in state.everything})
    with speaking(state.page.default_language):
        files.update(feeds.component_documents(state, contents, entries))
    return files


def render(previous: Manifest | None, known: list[Problem], full: bool = False) -> Render:
    """The files to write for the current rows: what changed since ``previous`` was
    rendered, or everything when ``full``, when there is no ``previous`` or when the
    templates, the code or the page's settings differ from its."""
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
        found = changes.since(previous, db.session.scalars(db.select(Component)).all())
        if found is not None:
            try:
                return _incremental(previous, found, known, at)
            except Exception:
                log.exception("an incremental render failed; rendering the whole site")
                db.session.rollback()
    return _full(known, version, digest, at)


def _full(known: list[Problem], version: str, digest: str, at: datetime) -> Render:
    state = load_state(current_app.config["BASE_URL"], at)
    files, problems = quarantine.render_site(render_state, state, known)
    left_out = {p.id for p in problems if p.kind == "incident"}
    manifest = Manifest(
        version=version,
        generation="",
        rendered_at=iso(state.at) or "",
        page=digest,
        components={c.id: c.display_name for c in state.components},
        incidents={i.id: None if i.id in left_out else month_key(i) for i in state.everything},
    )
    return Render(files, set(), True, manifest, problems)


def _incremental(
    previous: Manifest, found: changes.Changes, known: list[Problem], at: datetime
) -> Render:
    wanted = found.incidents | changes.shown_ids(
        at,
        PAST_DAYS,
        found.components,
        RECENT_INCIDENTS,
        feeds.FEED_UPDATES,
        feeds.COMPONENT_FEED_UPDATES,
    )
    loaded = load_state(current_app.config["BASE_URL"], at, wanted)
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
    months = [Month.named(key, counts[key]) for key in sorted(counts, reverse=True)]

    contents = feeds.Contents(shown)
    entries = feeds.entries(shown.everything)
    files = head_files(shown, months, contents, entries)
    changed = [i for i in shown.everything if i.id in found.incidents]
    status = api_v2.status_doc(shown)

    dirty = {previous.incidents.get(i) for i in found.incidents} | {
        months_of[i] for i in found.incidents
    }
    before = sorted(previous.months, reverse=True)
    dirty |= _moved_neighbours(before, [m.key for m in months])
    removed = {
        f"{folder}history/{key}.html"
        for key in set(before) - counts.keys()
        for folder in pages.folders(shown)
    }
    redo: list[int] = []
    for index, month in enumerate(months):
        if month.key in dirty:
            members = [i for i, key in months_of.items() if key == month.key]
            month.incidents = sorted(load_incidents(set(members)), key=history_order, reverse=True)
            if len(month.incidents) != month.count or any(
                month_key(i) != month.key for i in month.incidents
            ):
                raise Unfollowable(f"month {month.key} changed while it was read")
            redo.append(index)
    files.update(
        pages.in_every_language(
            shown,
            status,
            lambda context: {
                **pages.incident_pages(context, changed),
                **{
                    f"history/{months[i].key}.html": pages.month_page(context, months, i)
                    for i in redo
                },
            },
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
    return Render(files, removed, False, manifest, still + carried)


def _moved_neighbours(before: list[str], after: list[str]) -> set[str]:
    """Months whose newer or older neighbour is not what it was (a month came or went)."""

    def neighbours(keys: list[str]) -> dict[str, tuple[str | None, str | None]]:
        return {
            key: (keys[i - 1] if i > 0 else None, keys[i + 1] if i + 1 < len(keys) else None)
            for i, key in enumerate(keys)
        }

    old = neighbours(before)
    return {key for key, pair in neighbours(after).items() if old.get(key) != pair}
