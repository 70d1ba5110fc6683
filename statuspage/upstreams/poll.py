"""Polling followed vendor pages on their cadence: conditional GETs (ETag and
If-Modified-Since), backoff on failure (or the time a 429/503 names), and on a change of a
followed component an operator alert, optionally a draft incident, and a re-publish.

A poll only ever writes the vendor's own rows: a failing vendor or a failing poll is shown
in the admin and on the vendor's group, and never touches a component of ours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from statuspage.alerts import notify_operators
from statuspage.extensions import db
from statuspage.incidents.republish import request_publish
from statuspage.integrations import drafts
from statuspage.lib import http
from statuspage.lib.clock import now
from statuspage.models import (
    AlertKind,
    ComponentStatus,
    DraftSource,
    DraftState,
    IncidentDraft,
    IncidentStatus,
    Upstream,
    UpstreamComponent,
)
from statuspage.models.audit import record
from statuspage.upstreams.follow import fetch, new_component
from statuspage.upstreams.summary import Summary, SummaryError, parse

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 50


def due(at: datetime) -> list[int]:
    ids = list(
        db.session.scalars(
            select(Upstream.id)
            .where(Upstream.next_poll_at <= at)
            .order_by(Upstream.next_poll_at)
            .limit(BATCH)
        )
    )
    db.session.commit()
    return ids


def poll_due(at: datetime | None = None) -> dict[str, int]:
    """Poll every upstream whose time has come; returns how many changed or failed."""
    at = at or now()
    report = {"polled": 0, "changed": 0, "failed": 0}
    for upstream_id in due(at):
        outcome = poll_one(upstream_id, at)
        if outcome is not None:
            report["polled"] += 1
            report[outcome] = report.get(outcome, 0) + 1
    return report


def _claim(upstream_id: int, at: datetime) -> bool:
    """Exactly one poller takes an upstream that is due (overlapping beat ticks)."""
    result = db.session.execute(
        update(Upstream)
        .where(Upstream.id == upstream_id, Upstream.next_poll_at <= at)
        .values(next_poll_at=at + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def poll_one(upstream_id: int, at: datetime | None = None) -> str | None:
    """Poll one upstream now if it is due: "changed", "unchanged", "failed", or None when
    another poller has it."""
    at = at or now()
    if not _claim(upstream_id, at):
        return None
    upstream = db.session.get(Upstream, upstream_id, populate_existing=True)
    assert upstream is not None
    headers = {}
    if upstream.etag:
        headers["If-None-Match"] = upstream.etag
    if upstream.last_modified:
        headers["If-Modified-Since"] = upstream.last_modified
    try:
        fetched = fetch(upstream.summary_url, headers)
        summary = parse(fetched.body) if fetched.status != 304 else None
    except http.HttpError as exc:
        return _failed(upstream, exc.message, exc.retry_at, at)
    except SummaryError as exc:
        return _failed(upstream, str(exc), None, at)
    changed = _apply(upstream, summary, at) if summary is not None else False
    if fetched.status != 304:
        upstream.etag = fetched.headers.get("ETag")
        upstream.last_modified = fetched.headers.get("Last-Modified")
    upstream.failures, upstream.last_error = 0, None
    upstream.last_polled_at = upstream.last_ok_at = at
    upstream.next_poll_at = at + timedelta(seconds=upstream.poll_seconds)
    db.session.commit()
    return "changed" if changed else "unchanged"


def _failed(upstream: Upstream, reason: str, retry_at: datetime | None, at: datetime) -> str:
    db.session.rollback()
    upstream = db.session.get(Upstream, upstream.id, populate_existing=True)
    assert upstream is not None
    upstream.failures += 1
    upstream.last_error = reason[:1000]
    upstream.last_polled_at = at
    backoff = min(timedelta(seconds=upstream.poll_seconds) * 2**upstream.failures, MAX_BACKOFF)
    upstream.next_poll_at = max(at + backoff, retry_at or at)
    db.session.commit()
    return "failed"


def _apply(upstream: Upstream, summary: Summary, at: datetime) -> bool:
    """Bring the vendor's rows up to date; returns whether anything shown changed."""
    rows = {c.vendor_id: c for c in upstream.components}
    seen = set()
    moved: list[tuple[UpstreamComponent, str]] = []
    shown_changed = upstream.name != summary.name or upstream.page_url != summary.page_url
    upstream.name, upstream.page_url = summary.name, summary.page_url
    for item in summary.components:
        seen.add(item.vendor_id)
        row = rows.get(item.vendor_id)
        if row is None:
            upstream.components.append(new_component(item, followed=False, at=at))
            continue
        if row.followed and (row.name, row.group_name) != (item.name, item.group_name):
            shown_changed = True
        if row.status != item.status:
            if row.followed:
                moved.append((row, row.status))
            row.status, row.changed_at = item.status, at
        row.name, row.group_name, row.position = item.name, item.group_name, item.position
    for vendor_id, row in rows.items():
        if vendor_id not in seen:
            shown_changed = shown_changed or row.followed
            upstream.components.remove(row)
    if moved:
        _tell(upstream, moved, at)
    if moved or shown_changed:
        upstream.updated_at = at
        request_publish(f"upstream {upstream.id} changed")
    return bool(moved or shown_changed)


def _label(status: str) -> str:
    return ComponentStatus(status).label.lower()


def _tell(upstream: Upstream, moved: list[tuple[UpstreamComponent, str]], at: datetime) -> None:
    changes = "; ".join(
        f"{row.display_name} is {_label(row.status)} (was {_label(old)})" for row, old in moved
    )
    text = f"{upstream.name} reports: {changes}."
    record(
        None,
        "upstream.change",
        "upstream",
        str(upstream.id),
        None,
        {row.display_name: row.status for row, _ in moved},
    )
    notify_operators(
        f"upstream:{upstream.id}:{int(at.timestamp())}",
        AlertKind.UPSTREAM,
        text,
        f"/admin/upstreams/{upstream.id}",
    )
    troubled = [row for row, _ in moved if row.status != ComponentStatus.OPERATIONAL]
    if upstream.open_drafts and troubled and not _open_draft(upstream.id):
        _draft(upstream, troubled, at)


def _open_draft(upstream_id: int) -> bool:
    return (
        db.session.scalars(
            select(IncidentDraft.id).where(
                IncidentDraft.upstream_id == upstream_id, IncidentDraft.state == DraftState.OPEN
            )
        ).first()
        is not None
    )


def _draft(upstream: Upstream, troubled: list[UpstreamComponent], at: datetime) -> None:
    names = ", ".join(row.display_name for row in troubled)
    draft = IncidentDraft(
        source=DraftSource.UPSTREAM,
        upstream_id=upstream.id,
        name=f"Issues at our provider {upstream.name}"[:255],
        impact="minor",
        status=IncidentStatus.INVESTIGATING,
        body=(
            f"Our provider {upstream.name} reports problems with {names}. "
            "We are checking how this affects our service."
        ),
        components={},
        notify=upstream.notify_subscribers,
        problem_started_at=at,
    )
    drafts.add(
        draft,
        {"upstream": upstream.name},
        f"{upstream.name}'s status change opened a draft incident: “{draft.name}”.",
    )
