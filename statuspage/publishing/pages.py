"""The HTML of the public site: the status page, incident permalinks and monthly history."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app
from jinja2 import Environment
from markupsafe import Markup

from statuspage.lib.markdown import render_markdown
from statuspage.models import ComponentStatus, Impact, Incident, IncidentStatus
from statuspage.publishing import uptime
from statuspage.publishing.state import PublicState, shown, started

# Files of static/ that travel with every snapshot (the admin's assets stay with the app).
ASSETS = ("public.css", "localtime.js")

LABELS = {
    "component": {s.value: s.label for s in ComponentStatus},
    "incident": {s.value: s.label for s in IncidentStatus},
    "impact": {
        Impact.NONE.value: "No impact",
        Impact.MINOR.value: "Minor impact",
        Impact.MAJOR.value: "Major impact",
        Impact.CRITICAL.value: "Critical impact",
        Impact.MAINTENANCE.value: "Maintenance",
    },
}


@lru_cache(maxsize=8192)
def markdown(text: str) -> Markup:
    """Published text rarely changes, so a worker renders each body once, not per publish."""
    return render_markdown(text)


def day_class(day: uptime.Day) -> str:
    if not day.has_data:
        return "nodata"
    worst = day.worst
    return str(worst) if worst else "operational"


def day_title(day: uptime.Day) -> str:
    label = day.day.strftime("%b %-d, %Y")
    if not day.has_data:
        return f"{label}: no data"
    notes = ", ".join(f"{LABELS['component'][s]} {m} min" for s, m in day.notes)
    value = uptime.format_percent(day.percent)
    return f"{label}: {value} uptime" + (f" ({notes})" if notes else ", no incidents")


def duration(incident: Incident) -> str:
    end = incident.resolved_at
    if end is None:
        return ""
    minutes = max(1, round((end - incident.started_at).total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min"]
    return " ".join(p for p in parts if p and not (p == "0 min" and (days or hours)))


def asset_versions(static_folder: str) -> dict[str, str]:
    """Content hashes for asset URLs, so browsers and CDNs may cache assets for a year."""
    return {
        name: hashlib.sha256((Path(static_folder) / name).read_bytes()).hexdigest()[:12]
        for name in ASSETS
    }


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
}


def templates() -> Environment:
    """The Jinja environment with the helpers as globals of the shared macros, so the
    macro module is built once, not once per rendered page."""
    env = current_app.jinja_env
    env.get_template("public/macros.html").globals.update(HELPERS)
    return env


def _context(state: PublicState, status: dict[str, str]) -> dict[str, Any]:
    return {
        **HELPERS,
        "s": state,
        "status": status,
        "assets": asset_versions(current_app.static_folder or "static"),
    }


# Rendered incident pages of this process, by incident id: most incidents are long over,
# and a page is rendered again only when something it shows has changed.
_incident_pages: dict[str, tuple[tuple[Any, ...], bytes]] = {}


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


def documents(state: PublicState, status: dict[str, str]) -> dict[str, bytes]:
    """Every HTML file, keyed by its path in the snapshot."""
    env = templates()
    context = _context(state, status)
    files = {"index.html": env.get_template("public/index.html").render(context).encode()}
    incident_page = env.get_template("public/incident.html")
    site = (state.page.name, state.base_url, tuple(context["assets"].items()))
    for incident in state.everything:
        key = (site, incident_fingerprint(incident, state.at))
        html = _incident_pages.get(incident.id)
        if html is None or html[0] != key:
            # Its own "last updated", so the page keeps its bytes (and ETag) until it changes.
            page = incident_page.render(
                context, incident=incident, page_updated=incident.updated_at
            )
            html = _incident_pages[incident.id] = (key, page.encode())
        files[f"incidents/{incident.id}.html"] = html[1]
    for gone in _incident_pages.keys() - {i.id for i in state.everything}:
        del _incident_pages[gone]
    months = state.months()
    files["history.html"] = (
        env.get_template("public/history.html").render(context, months=months).encode()
    )
    month_page = env.get_template("public/history_month.html")
    for index, month in enumerate(months):
        files[f"history/{month.key}.html"] = month_page.render(
            context,
            month=month,
            page_updated=max(i.updated_at for i in month.incidents),
            newer=months[index - 1] if index > 0 else None,
            older=months[index + 1] if index + 1 < len(months) else None,
        ).encode()
    return files


def feed_context(state: PublicState) -> dict[str, Any]:
    return {**HELPERS, "s": state}
