"""The HTML of the public site: the status page, incident permalinks and monthly history."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from jinja2 import Environment
from markupsafe import Markup

from statuspage.branding import brand
from statuspage.i18n import DEFAULT, LANGUAGES, speaking
from statuspage.labels import LABELS, in_sentence
from statuspage.lib.markdown import render_markdown
from statuspage.lib.timefmt import day as day_label
from statuspage.lib.timefmt import month as month_label
from statuspage.lib.timefmt import number
from statuspage.models import Component, ComponentStatus, Incident
from statuspage.publishing import gzipped, uptime
from statuspage.publishing.state import GroupView, Month, PublicState, shown, started

# Files of static/ that travel with every snapshot (the admin's assets stay with the app).
ASSETS = ("public.css", "localtime.js", "favicon.svg")


@lru_cache(maxsize=8192)
def markdown(text: str) -> Markup:
    """Published text rarely changes, so a worker renders each body once, not per publish."""
    return render_markdown(text)


def _language() -> str:
    locale = get_locale()
    return locale.language if locale else DEFAULT


def day_class(day: uptime.Day) -> str:
    return _day_strings(_day_shown(day), _language())[0]


def day_title(day: uptime.Day) -> str:
    return _day_strings(_day_shown(day), _language())[1]


DayShown = tuple[date, ComponentStatus | None, int | None, tuple[tuple[ComponentStatus, int], ...]]


def _day_shown(day: uptime.Day) -> DayShown:
    """What a day's bar says, in no language: days alike here read alike in every one
    (today's seconds grow with every publish, its title seldom changes)."""
    return (day.day, day.worst, uptime.hundredths(day.percent), tuple(day.notes))


@lru_cache(maxsize=32768)
def _day_strings(shown: DayShown, language: str) -> tuple[str, str]:
    """A day's colour and title in ``language`` (the current one), worked out once per
    language."""
    on, worst, percent, notes = shown
    label = day_label(on)
    if percent is None:
        return "nodata", _("%(day)s: no data", day=label)
    value = uptime.format_hundredths(percent)
    if notes:
        listed = _(", ").join(
            _("%(status)s %(minutes)s min", status=LABELS["component"][s], minutes=number(m))
            for s, m in notes
        )
        title = _("%(day)s: %(percent)s uptime (%(notes)s)", day=label, percent=value, notes=listed)
    else:
        title = _("%(day)s: %(percent)s uptime, no incidents", day=label, percent=value)
    return str(worst) if worst else "operational", title


def _bar_shown(up: uptime.Uptime) -> tuple[Any, ...]:
    """What a 90-day bar shows, in no language. Days kept from an earlier publish are named
    by their serial; only today's are read."""
    days = up.days[-1:] if up.closed is not None else up.days
    return (
        uptime.hundredths(up.percent),
        up.closed and up.closed[0],
        tuple(_day_shown(d) for d in days),
    )


# Rendered uptime bars by what they show: of 50 components, a publish usually changes one.
_bars: dict[tuple[Any, ...], Markup] = {}


def uptime_bar(component: Component, up: uptime.Uptime) -> Markup:
    """The component's 90-day bar, rendered again only when a day of it reads differently."""
    key = (_language(), component.name, _bar_shown(up))
    return _rendered(_bars, 4096, key, "uptime_bar", component, up)


def _row_shown(component: Component, state: PublicState) -> tuple[Any, ...] | None:
    """What a component's row shows (None: hidden), in no language."""
    if not shown(component):
        return None
    up = state.uptime.get(component.id) if component.showcase else None
    bar = _bar_shown(up) if up is not None else None
    return (component.id, component.name, component.description, str(component.status), bar)


# Rendered rows of components, by language and what they show: during an incident a
# component's bar changes by the minute, the others' stay as they were.
_rows: dict[tuple[Any, ...], Markup] = {}


def component_row(component: Component, state: PublicState) -> Markup:
    """A component's row on the home page, rendered again only when it reads differently."""
    key = (_language(), _row_shown(component, state))
    return _rendered(_rows, 4096, key, "component_row", component, state)


# The rendered list of components, by language and what it shows: the bulk of the home
# page's bytes, the same from one publish to the next but when a component changes.
_lists: dict[tuple[Any, ...], tuple[Markup, bytes]] = {}


def component_list(state: PublicState) -> Markup:
    """The home page's list of components with their uptime bars, rendered again only when
    something it shows reads differently."""
    shown_items = tuple(
        (
            item.group.name,
            str(item.status),
            tuple(_row_shown(c, state) for c in item.members),
        )
        if isinstance(item, GroupView)
        else _row_shown(item, state)
        for item in state.top_level
    )
    language = _language()
    key = (language, shown_items)
    held = _lists.get(key)
    if held is None:
        if len(_lists) > 64:
            _lists.clear()
        macro = templates().get_template("public/macros.html").module.component_list  # type: ignore[attr-defined]
        listed = Markup(macro(state))
        held = _lists[key] = (listed, listed.encode())
    gzipped.offer(language, held[1])  # the page's gzip body reuses its deflate
    return held[0]


def duration(incident: Incident) -> str:
    end = incident.resolved_at
    if end is None:
        return ""
    minutes = max(1, round((end - incident.started_at).total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [
        _("%(n)s d", n=number(days)) if days else "",
        _("%(n)s h", n=number(hours)) if hours else "",
        _("%(n)s min", n=number(minutes)) if minutes or not (days or hours) else "",
    ]
    return " ".join(p for p in parts if p)


def asset_versions(static_folder: str) -> dict[str, str]:
    """Content hashes for asset URLs, so browsers and CDNs may cache assets for a year."""
    return {
        name: hashlib.sha256((Path(static_folder) / name).read_bytes()).hexdigest()[:12]
        for name in ASSETS
    }


# Rendered cards of open incidents and days of the last week on the home page, by language,
# copy and what they show: an update changes one card, or today, the others stay as they were.
_cards: dict[tuple[Any, ...], Markup] = {}
_past: dict[tuple[Any, ...], Markup] = {}


def incident_card(incident: Incident, at: datetime, prefix: str) -> Markup:
    """An open incident or maintenance with its latest update, as the home page shows it."""
    key = (_language(), prefix, incident.id, incident_fingerprint(incident, at))
    return _rendered(_cards, 4096, key, "incident_card", incident, at, prefix, latest_only=True)


def past_day(day: date, items: list[Incident], ongoing: list[Incident], prefix: str) -> Markup:
    """A day of the home page's last days: its closed incidents (a busy page lists dozens
    a day) by name, status and end, and on today the open ones by name and status."""
    key = (
        _language(),
        prefix,
        day,
        tuple((i.id, i.name, str(i.status), i.resolved_at) for i in items),
        tuple((i.id, i.name, str(i.status)) for i in ongoing),
    )
    return _rendered(_past, 1024, key, "past_day", day, items, ongoing, prefix)


def _rendered(
    kept: dict[tuple[Any, ...], Markup],
    most: int,
    key: tuple[Any, ...],
    macro: str,
    *args: Any,
    **kwargs: Any,
) -> Markup:
    """A macro of ``public/macros.html`` rendered once per key (what it shows); past
    ``most`` kept parts the cache starts again, so a long-lived worker stays small."""
    part = kept.get(key)
    if part is None:
        if len(kept) > most:
            kept.clear()
        render = getattr(templates().get_template("public/macros.html").module, macro)
        part = kept[key] = Markup(render(*args, **kwargs))
    return part


HELPERS = {
    "labels": LABELS,
    "md": markdown,
    "day_class": day_class,
    "day_title": day_title,
    "pct": uptime.format_percent,
    "duration": duration,
    "started": started,
    "shown": shown,
    "uptime_rule": uptime.RULE,
    "cached_uptime_bar": uptime_bar,
    "cached_component_row": component_row,
    "cached_component_list": component_list,
    "cached_incident_card": incident_card,
    "cached_past_day": past_day,
    "day_label": day_label,
    "in_sentence": in_sentence,
    "month_label": month_label,
}


def templates() -> Environment:
    """The Jinja environment with the helpers as globals of the shared macros, so the
    macro module is built once, not once per rendered page."""
    env = current_app.jinja_env
    env.get_template("public/macros.html").globals.update(HELPERS)
    return env


def _context(state: PublicState, status: dict[str, str], folder: str = "") -> dict[str, Any]:
    return {
        **HELPERS,
        "s": state,
        "status": status,
        "assets": asset_versions(current_app.static_folder or "static"),
        "brand": brand(state.page),
        "folder": folder,
        "prefix": f"/{folder}" if folder else "",
        "lang_query": f"?lang={folder}" if folder else "",
    }


def copies(state: PublicState) -> list[tuple[str, str]]:
    """(language, folder) of each copy of the HTML: the page's default language at the
    root, and every shipped language under its own code (``de/…``)."""
    default = state.page.default_language if state.page.default_language in LANGUAGES else DEFAULT
    return [(default, ""), *((code, code) for code in LANGUAGES)]


def in_every_language(
    state: PublicState, status: dict[str, str], render: Callable[[dict[str, Any]], dict[str, bytes]]
) -> dict[str, bytes]:
    """``render``'s pages (paths relative to the site's root) once per copy, each in its
    language and folder."""
    files: dict[str, bytes] = {}
    for language, folder in copies(state):
        with speaking(language):
            for path, data in render(_context(state, status, folder)).items():
                files[f"{folder}/{path}" if folder else path] = data
    return files


def folders(state: PublicState) -> list[str]:
    """The path prefix of each copy of the HTML, for files that left the site."""
    return [f"{folder}/" if folder else "" for _, folder in copies(state)]


def digest(shown: tuple[Any, ...]) -> bytes:
    """A fingerprint as 16 bytes: the caches that hold one per incident and copy hold no
    tuples, which the collector would walk on every full collection (hundreds of thousands
    at a long history)."""
    return hashlib.blake2b(repr(shown).encode(), digest_size=16).digest()


# Rendered incident pages of this process, by folder and incident id: most incidents are
# long over, and a page is rendered again only when something it shows has changed.
_incident_pages: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def incident_fingerprint(incident: Incident, at: datetime) -> tuple[Any, ...]:
    """Everything an incident page shows, so an equal fingerprint means equal HTML."""
    return (
        incident.name,
        str(incident.status),
        str(incident.impact),
        incident.updated_at,
        incident.started_at,
        incident.resolved_at,
        incident.scheduled_for,
        incident.scheduled_until,
        incident.cancelled_at,
        incident.next_update_due,
        incident.is_open and incident.next_update_due is not None and incident.next_update_due < at,
        incident.postmortem_published_at,
        incident.postmortem_body,
        tuple(c.display_name for c in incident.components),
        tuple(
            (
                u.id,
                str(u.status),
                u.body,
                u.created_at,
                tuple((r.body, r.created_at) for r in u.revisions),
                tuple(
                    (a.component.display_name, str(a.old_status), str(a.new_status))
                    for a in u.affected
                ),
            )
            for u in incident.updates
        ),
    )


def forget_except(kept: set[str]) -> None:
    """Drop the rendered pages of incidents no longer on the site."""
    for gone in [key for key in _incident_pages if key[1] not in kept]:
        del _incident_pages[gone]


def page_context(state: PublicState, status: dict[str, str]) -> dict[str, Any]:
    """What every page template is rendered with (the copy at the root)."""
    return _context(state, status)


def index_page(context: dict[str, Any]) -> bytes:
    return templates().get_template("public/index.html").render(context, path="/").encode()


def incident_pages(context: dict[str, Any], incidents: list[Incident]) -> dict[str, bytes]:
    """The permalink page of each of ``incidents``."""
    state: PublicState = context["s"]
    incident_page = templates().get_template("public/incident.html")
    folder = context["folder"]
    site = (
        _language(),
        state.page.name,
        state.base_url,
        tuple(context["assets"].items()),
        context["brand"].version,
    )
    files = {}
    for incident in incidents:
        key = digest((site, incident_fingerprint(incident, state.at)))
        html = _incident_pages.get((folder, incident.id))
        if html is None or html[0] != key:
            # Its own "last updated", so the page keeps its bytes (and ETag) until it changes.
            page = incident_page.render(
                context,
                incident=incident,
                page_updated=incident.updated_at,
                path=f"/incidents/{incident.id}",
            )
            html = _incident_pages[(folder, incident.id)] = (key, page.encode())
        files[f"incidents/{incident.id}.html"] = html[1]
    return files


def history_page(context: dict[str, Any], months: list[Month]) -> bytes:
    """The list of months; each month needs its key and count only."""
    page = templates().get_template("public/history.html")
    return page.render(context, months=months, path="/history").encode()


def feed_context(state: PublicState) -> dict[str, Any]:
    return {**HELPERS, "s": state}
