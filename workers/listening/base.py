"""The one interface every listening source kind implements.

A poller reads a source newest first, one page at a time, bounded below by ``since_id``
and above by ``until_id`` (both exclusive). ``workers.listening.run`` drives the pages and
keeps the cursor; a poller only speaks its API and maps posts to ``Found``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statuspage.listening.inbox import Found
from statuspage.models import Channel, ListeningSource


class PollError(Exception):
    """A poll failed; ``message`` is safe to show operators. ``retry_at`` is when the API
    said to come back (a rate limit's reset); ``stale_cursor`` means the API no longer
    accepts the stored cursor, so the next poll starts from the newest posts."""

    def __init__(
        self, message: str, *, retry_at: datetime | None = None, stale_cursor: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_at = retry_at
        self.stale_cursor = stale_cursor


@dataclass(frozen=True)
class Page:
    found: list[Found]
    newest_id: str | None  # cursor ids of the page (Mastodon: notification ids)
    oldest_id: str | None
    next_token: str | None  # set when older results remain within the bounds


class Poller:
    """Reads the sources of one channel kind; ``source.name`` says which ("mentions",
    "search", "tag:<name>")."""

    def connect(self, channel: Channel) -> AbstractContextManager[Any]:
        """A client for the channel's API, closed when the block ends."""
        raise NotImplementedError

    def fetch(
        self,
        client: Any,
        channel: Channel,
        source: ListeningSource,
        *,
        since_id: str | None,
        until_id: str | None,
        token: str | None,
    ) -> Page:
        """One page, newest first, of posts with ids strictly between ``since_id`` and
        ``until_id``; ``token`` is the previous page's ``next_token``."""
        raise NotImplementedError


def id_order(value: str) -> tuple[int, str]:
    """Sort key for ids: numeric snowflakes (X, Mastodon) and same-length flake ids
    (Pleroma) both order correctly by length, then text."""
    return (len(value), value)
