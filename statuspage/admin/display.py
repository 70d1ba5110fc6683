"""How the admin shows stored values: human words for every status vocabulary and times
in the operator's time zone with UTC beside them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import has_request_context, request
from flask_login import current_user
from markupsafe import Markup

from statuspage.admin.routes import bp
from statuspage.lib.clock import iso
from statuspage.models import Page

# Words where "capitalise and drop the underscore" would not read well.
LABELS = {
    "none": "No impact",
    "failed": "Failed, will retry",
    "dead": "Gave up",
    "uncertain": "Uncertain",
    "email-smtp": "Email",
}
TONES = {
    "ok": "operational resolved completed postmortem sent answered ok active confirmed published",
    "minor": "degraded_performance minor identified pending sending new open",
    "major": "partial_outage major investigating failed paused",
    "critical": "major_outage critical dead uncertain failing overdue firing",
    "maint": "under_maintenance maintenance scheduled in_progress verifying monitoring",
}
TONE_OF = {value: tone for tone, values in TONES.items() for value in values.split()}


@bp.app_template_filter("label")
def label(value: object) -> str:
    """``degraded_performance`` → "Degraded performance"."""
    text = str(value or "")
    return LABELS.get(text) or text.replace("_", " ").capitalize()


@bp.app_template_filter("tone")
def tone(value: object) -> str:
    """The badge colour of a status: ok, minor, major, critical, maint or neutral."""
    return TONE_OF.get(str(value or ""), "neutral")


def operator_zone() -> ZoneInfo:
    """The signed-in user's own time zone, else the page's; looked up once per request
    (kept on the request: an app context, and ``g`` with it, may outlive one)."""
    if not has_request_context():
        return ZoneInfo(Page.get().time_zone)
    zone = getattr(request, "operator_zone", None)
    if zone is None:
        name = getattr(current_user, "time_zone", None) or Page.get().time_zone
        zone = request.operator_zone = ZoneInfo(name)  # type: ignore[attr-defined]
    return zone


@bp.app_template_global()
def operator_zone_name() -> str:
    return operator_zone().key


def from_operator_zone(typed: datetime) -> datetime:
    """A wall-clock time typed by the operator, as the UTC instant it names (a time that
    occurs twice when clocks go back is taken the first time)."""
    return typed.replace(tzinfo=operator_zone(), fold=0).astimezone(UTC)


def zone_hint() -> str:
    """Says which zone a time field takes, and its offset from UTC now."""
    zone = operator_zone()
    here = datetime.now(UTC).astimezone(zone)
    if here.tzname() == "UTC":
        return "In UTC."
    offset = here.strftime("%z")
    return f"In your time zone, {zone.key} (UTC{offset[:3]}:{offset[3:]} now)."


def local_parts(value: datetime) -> tuple[str, str | None]:
    """The time in the operator's zone, and in UTC unless the zone is UTC itself."""
    local = value.astimezone(operator_zone())
    utc = value.astimezone(UTC)
    shown = local.strftime("%b %-d, %Y %H:%M ") + (local.tzname() or "")
    if local.tzname() == "UTC":
        return shown, None
    same_day = local.date() == utc.date()
    return shown, utc.strftime("%H:%M UTC" if same_day else "%b %-d %H:%M UTC")


@bp.app_template_filter("when")
def when(value: datetime | None) -> Markup:
    """A ``<time>`` element: the operator's time first, UTC beside it."""
    if value is None:
        return Markup("")
    shown, utc = local_parts(value)
    beside = Markup(' <span class="utc">({})</span>').format(utc) if utc else ""
    return Markup('<time datetime="{}">{}{}</time>').format(iso(value), shown, beside)


MISSING = object()  # a field an audit record has on one side only
SHOWN = 300  # characters of an audited value shown in the log


@bp.app_template_filter("changes")
def changes(before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """An audit record's fields that differ, as (field, before, after) in short text."""

    def shown(value: object) -> str:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"

    before, after = before or {}, after or {}
    keys = [k for k in {**before, **after} if before.get(k, MISSING) != after.get(k, MISSING)]
    return [
        (k, shown(before[k]) if k in before else "", shown(after[k]) if k in after else "")
        for k in keys
    ]
