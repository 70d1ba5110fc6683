"""One polling round over every listening source (the ``poll_mentions`` beat task).

Each source is read newest first with ``since_id`` as the floor, page after page. A round
takes at most ``MAX_PAGES`` pages of a source; a larger backlog is continued by the next
round below the oldest id seen (the sweep), and only when the sweep reaches the floor does
``since_id`` move up to the newest id it saw. A source's very first poll takes one page:
listening starts now, not with the account's whole history. Items are stored (once) page
by page, so a crash repeats a little reading and loses nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from statuspage.extensions import db
from statuspage.listening import inbox, sources
from statuspage.listening.sources import Sweep
from statuspage.models import Channel, ListeningSource
from workers.listening import poller_for
from workers.listening.base import Poller, PollError, id_order

log = logging.getLogger(__name__)
MAX_PAGES = 10


def poll_all() -> dict[str, int]:
    """Poll every due source of every listening channel; returns new items per source."""
    results: dict[str, int] = {}
    for channel in sources.listening_channels():
        claimed = [s for s in (sources.claim(r.id) for r in sources.ensure(channel)) if s]
        if not claimed:
            continue  # all polled by someone else right now, or waiting for a reset
        poller = poller_for(channel.kind)
        try:
            with poller.connect(channel) as client:
                for source in claimed:
                    key = f"{channel.id}:{source.name}"
                    results[key] = poll_source(poller, client, channel, source)
        except PollError as exc:  # the client could not even be built
            for source in claimed:
                sources.failed(source, exc.message)
    return results


def _later(current: str | None, candidate: str | None) -> str | None:
    if current is None or candidate is None:
        return current or candidate
    return max(current, candidate, key=id_order)


def poll_source(poller: Poller, client: Any, channel: Channel, source: ListeningSource) -> int:
    """Read one claimed source as far as this round goes; record where it stopped."""
    since, until = source.since_id, source.sweep_until_id
    newest, oldest = source.sweep_newest_id, None
    first = since is None and until is None
    token: str | None = None
    stored = 0
    try:
        for _ in range(MAX_PAGES):
            page = poller.fetch(
                client, channel, source, since_id=since, until_id=until, token=token
            )
            stored += inbox.store(channel, source.name, page.found)
            newest = _later(newest, page.newest_id)
            oldest = page.oldest_id or oldest
            token = page.next_token
            if token is None or first:
                break
    except PollError as exc:
        db.session.rollback()
        log.warning("listening source %s of channel %s: %s", source.name, channel.id, exc.message)
        sweep = Sweep(newest, oldest) if oldest is not None else None
        sources.failed(
            source,
            exc.message,
            retry_at=exc.retry_at,
            sweep=sweep,
            restart=exc.stale_cursor,
            found=stored,
        )
        return stored
    except Exception as exc:
        db.session.rollback()
        log.exception("listening source %s of channel %s crashed", source.name, channel.id)
        sources.failed(source, f"internal error: {type(exc).__name__}", found=stored)
        return stored
    if token is not None and not first and oldest is not None:
        sources.advance(source.id, since_id=since, sweep=Sweep(newest, oldest), found=stored)
    else:
        sources.advance(source.id, since_id=newest or since, found=stored)
    return stored
