"""Following a vendor page: add it by its summary.json URL (read at once, so the operator
picks from its real components), choose components, change settings, stop following.
Shared by the admin and ``statuspage add-upstream``; every change is audited."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents.republish import request_publish
from statuspage.lib import http
from statuspage.lib.clock import now
from statuspage.models import Upstream, UpstreamComponent, User
from statuspage.models.audit import record
from statuspage.upstreams.summary import Summary, SummaryError, VendorComponent, parse

MIN_POLL = 30
MAX_POLL = 3600


def fetch(url: str, headers: dict[str, str] | None = None) -> http.Fetched:
    with http.session() as session:
        return http.get(session, url, headers=headers)


def read(url: str) -> tuple[Summary, http.Fetched]:
    """Fetch and parse a summary.json now; ``ValidationError`` says what went wrong."""
    reason = http.check_url(url, allow_private=bool(current_app.config["ALLOW_PRIVATE_WEBHOOKS"]))
    if reason:
        raise ValidationError({"summary_url": f"this URL {reason}"})
    try:
        fetched = fetch(url)
        return parse(fetched.body), fetched
    except http.HttpError as exc:
        raise ValidationError({"summary_url": f"could not be read: {exc.message}"}) from None
    except SummaryError as exc:
        raise ValidationError({"summary_url": str(exc)}) from None


def new_component(item: VendorComponent, *, followed: bool, at: datetime) -> UpstreamComponent:
    return UpstreamComponent(
        vendor_id=item.vendor_id,
        name=item.name,
        group_name=item.group_name,
        status=item.status,
        position=item.position,
        followed=followed,
        changed_at=at,
    )


def add(*, actor: User | None, url: str, follow: Collection[str] | None = None) -> Upstream:
    """Follow the page at ``url``; ``follow`` names the components to show (by name or
    vendor id), all of them when None."""
    url = url.strip()
    if db.session.scalars(select(Upstream).where(Upstream.summary_url == url)).first():
        raise ValidationError({"summary_url": "this page is already followed"})
    summary, fetched = read(url)
    wanted = set(follow) if follow is not None else None
    at = now()
    upstream = Upstream(
        summary_url=url,
        name=summary.name,
        page_url=summary.page_url,
        etag=fetched.headers.get("ETag"),
        last_modified=fetched.headers.get("Last-Modified"),
        last_polled_at=at,
        last_ok_at=at,
        created_at=at,
        updated_at=at,
    )
    upstream.next_poll_at = at  # polled again on the next beat tick, then on its cadence
    for c in summary.components:
        chosen = wanted is None or c.name in wanted or c.vendor_id in wanted
        upstream.components.append(new_component(c, followed=chosen, at=at))
    if wanted is not None:
        unknown = (
            wanted
            - {c.name for c in summary.components}
            - {c.vendor_id for c in summary.components}
        )
        if unknown:
            raise ValidationError({"follow": f"no such component: {', '.join(sorted(unknown))}"})
    db.session.add(upstream)
    db.session.flush()
    record(
        actor,
        "upstream.add",
        "upstream",
        str(upstream.id),
        None,
        {"summary_url": url, "followed": [c.name for c in upstream.followed]},
    )
    request_publish(f"upstream {upstream.id} followed")
    db.session.commit()
    return upstream


def get(upstream_id: int) -> Upstream:
    upstream = db.session.get(Upstream, upstream_id)
    if upstream is None:
        raise NotFound(f"upstream {upstream_id}")
    return upstream


def configure(
    *,
    actor: User | None,
    upstream_id: int,
    followed: Collection[int],
    poll_seconds: int,
    open_drafts: bool,
    notify_subscribers: bool,
) -> Upstream:
    """Choose the components shown (by row id) and how the page is polled and acted on."""
    upstream = get(upstream_id)
    if not MIN_POLL <= poll_seconds <= MAX_POLL:
        raise ValidationError(
            {"poll_seconds": f"must be between {MIN_POLL} and {MAX_POLL} seconds"}
        )
    before = {
        "followed": [c.name for c in upstream.followed],
        "poll_seconds": upstream.poll_seconds,
        "open_drafts": upstream.open_drafts,
        "notify_subscribers": upstream.notify_subscribers,
    }
    for component in upstream.components:
        component.followed = component.id in followed
    upstream.poll_seconds = poll_seconds
    upstream.open_drafts, upstream.notify_subscribers = open_drafts, notify_subscribers
    upstream.updated_at = now()
    after = {
        "followed": [c.name for c in upstream.followed],
        "poll_seconds": poll_seconds,
        "open_drafts": open_drafts,
        "notify_subscribers": notify_subscribers,
    }
    record(actor, "upstream.update", "upstream", str(upstream.id), before, after)
    request_publish(f"upstream {upstream.id} changed")
    db.session.commit()
    return upstream


def remove(*, actor: User | None, upstream_id: int) -> None:
    upstream = get(upstream_id)
    record(
        actor,
        "upstream.remove",
        "upstream",
        str(upstream.id),
        {"summary_url": upstream.summary_url},
        None,
    )
    db.session.delete(upstream)
    request_publish(f"upstream {upstream_id} removed")
    db.session.commit()
