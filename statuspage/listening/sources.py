"""The polled sources of listening channels: which exist, who is polling one now, where
its cursor stands and how it fares.

A poll claims its source with a conditional UPDATE (a lease), like the outbox claims a
delivery, so overlapping beat ticks or several workers never poll one source twice at
once. A rate-limited source is skipped until the time the API named; a failing one is
retried with capped backoff. Both stay visible in the admin with their last error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.lib.timefmt import human
from statuspage.models import Channel, ChannelKind, ListeningSource

LEASE = timedelta(minutes=5)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
LISTENING_KINDS = (ChannelKind.X, ChannelKind.MASTODON, ChannelKind.BLUESKY)


@dataclass(frozen=True)
class Sweep:
    """An unfinished pass over a backlog, newest first: the newest id it saw, and the id
    to continue below."""

    newest_id: str | None
    until_id: str


def listening_channels() -> list[Channel]:
    rows = db.session.scalars(
        select(Channel)
        .where(Channel.enabled.is_(True), Channel.kind.in_([str(k) for k in LISTENING_KINDS]))
        .order_by(Channel.id)
    )
    return [c for c in rows if (c.config or {}).get("listen") == "on"]


def hashtags(channel: Channel) -> list[str]:
    raw = (channel.config or {}).get("hashtags") or ""
    return [t for t in re.split(r"[,\s]+", raw) if t]


def configured(channel: Channel) -> list[str]:
    """The source names a channel's settings ask for."""
    names = ["mentions"]
    config = channel.config or {}
    if channel.kind == ChannelKind.X and (config.get("search_query") or "").strip():
        names.append("search")
    if channel.kind == ChannelKind.MASTODON:
        names.extend(f"tag:{tag}" for tag in hashtags(channel))
    return names


def ensure(channel: Channel) -> list[ListeningSource]:
    """The rows of a channel's configured sources, created on first use."""
    names = configured(channel)
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(ListeningSource.__table__)
        .values(
            [
                {
                    "channel_id": channel.id,
                    "name": name,
                    "consecutive_failures": 0,
                    "items_found": 0,
                    "created_at": now(),
                }
                for name in names
            ]
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "name"])
    )
    db.session.commit()
    rows = db.session.scalars(
        select(ListeningSource).where(
            ListeningSource.channel_id == channel.id, ListeningSource.name.in_(names)
        )
    )
    by_name = {row.name: row for row in rows}
    return [by_name[name] for name in names]


def claim(source_id: int) -> ListeningSource | None:
    """Take a source for polling, unless someone else holds it or it must wait."""
    at = now()
    result = db.session.execute(
        update(ListeningSource)
        .where(
            ListeningSource.id == source_id,
            or_(ListeningSource.polling_until.is_(None), ListeningSource.polling_until < at),
            or_(ListeningSource.next_poll_at.is_(None), ListeningSource.next_poll_at <= at),
        )
        .values(polling_until=at + LEASE, last_polled_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(ListeningSource, source_id, populate_existing=True)


def remember_account(source_id: int, account_id: str) -> None:
    db.session.execute(
        update(ListeningSource)
        .where(ListeningSource.id == source_id)
        .values(account_id=account_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _progress(since_id: str | None, sweep: Sweep | None) -> dict[str, str | None]:
    if sweep is not None:
        return {"sweep_newest_id": sweep.newest_id, "sweep_until_id": sweep.until_id}
    return {"since_id": since_id, "sweep_newest_id": None, "sweep_until_id": None}


def advance(
    source_id: int, *, since_id: str | None, sweep: Sweep | None = None, found: int = 0
) -> None:
    """A poll succeeded: move the cursor (or keep the unfinished sweep) and clear errors."""
    db.session.execute(
        update(ListeningSource)
        .where(ListeningSource.id == source_id)
        .values(
            **_progress(since_id, sweep),
            polling_until=None,
            next_poll_at=None,
            rate_limited_until=None,
            consecutive_failures=0,
            last_success_at=now(),
            last_error=None,
            items_found=ListeningSource.items_found + found,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def backoff(failures: int) -> timedelta:
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(failures - 1, 0))


def failed(
    source: ListeningSource,
    message: str,
    *,
    retry_at: datetime | None = None,
    sweep: Sweep | None = None,
    restart: bool = False,
    found: int = 0,
) -> None:
    """A poll failed. With ``retry_at`` (a rate limit's reset) the source waits until
    then; otherwise it backs off. Progress made before the failure is kept, unless
    ``restart`` says the API refuses the cursor: then the next poll starts afresh."""
    at = now()
    failures = source.consecutive_failures + 1
    if retry_at is not None:
        message = f"rate limited until {human(retry_at)}"
    values: dict[str, object] = {
        "polling_until": None,
        "next_poll_at": retry_at or at + backoff(failures),
        "rate_limited_until": retry_at,
        "consecutive_failures": failures,
        "last_error": message[:2000],
        "last_error_at": at,
        "items_found": ListeningSource.items_found + found,
    }
    if restart:
        values.update(_progress(None, None))
    elif sweep is not None:
        values.update(_progress(source.since_id, sweep))
    db.session.execute(
        update(ListeningSource)
        .where(ListeningSource.id == source.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def overview() -> list[tuple[Channel, str, ListeningSource | None]]:
    """Every configured source of every listening channel, with its row once polled."""
    channels = listening_channels()
    rows = db.session.scalars(
        select(ListeningSource).where(ListeningSource.channel_id.in_([c.id for c in channels]))
    )
    by_key = {(row.channel_id, row.name): row for row in rows}
    return [(c, name, by_key.get((c.id, name))) for c in channels for name in configured(c)]


def failing() -> list[ListeningSource]:
    """Sources whose last poll failed (rate limited or erroring), for the dashboard."""
    return [row for _, _, row in overview() if row is not None and row.last_error]
