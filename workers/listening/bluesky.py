"""Bluesky: notifications of reason mention and reply
(``app.bsky.notification.listNotifications``), through the atproto SDK and the Bluesky
transport's login (one session per channel, shared with posting).

Notifications come newest first; the AppView's cursor is a notification's ``indexedAt``
time, so those times are the cursor ids here: ``until_id`` continues a sweep below a time
and ``since_id`` bounds the walk from below.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from atproto import models
from atproto_client import exceptions as atp
from atproto_core.uri import AtUri

from statuspage.lib.clock import now
from statuspage.listening.inbox import Found
from statuspage.models import Channel, ListeningSource
from workers.channels.base import DeliveryError
from workers.channels.bluesky import Bluesky, delivery_error, post_url
from workers.listening.base import Page, Poller, PollError, id_order

PAGE_SIZE = 100  # listNotifications' maximum
REASONS = ["mention", "reply"]


def item_id(uri: str) -> str:
    """A post's inbox id, ``<did>/<rkey>``: its at:// URI is longer than the id column."""
    parsed = AtUri.from_str(uri)
    return f"{parsed.host}/{parsed.rkey}"


def post_uri(item_id: str) -> str:
    did, _, rkey = item_id.rpartition("/")
    return f"at://{did}/app.bsky.feed.post/{rkey}"


class BlueskyPoller(Poller):
    @contextmanager
    def connect(self, channel: Channel) -> Iterator[tuple[Any, str]]:
        try:
            with Bluesky().connect(channel) as session:
                yield session
        except DeliveryError as exc:
            raise PollError(exc.message, retry_at=exc.retry_at) from None

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
        sdk, did = client
        params = models.AppBskyNotificationListNotifications.Params(
            reasons=REASONS, limit=PAGE_SIZE, cursor=token or until_id
        )
        try:
            answer = sdk.app.bsky.notification.list_notifications(params)
        except (atp.AtProtocolError, httpx.HTTPError) as exc:
            failure = delivery_error(exc, ())
            raise PollError(failure.message, retry_at=failure.retry_at) from None
        notes = answer.notifications
        if not notes:
            return Page([], None, None, None)
        times = [n.indexed_at for n in notes]
        newer = [
            n for n in notes if since_id is None or id_order(n.indexed_at) > id_order(since_id)
        ]
        oldest = min(times, key=id_order)
        reached_floor = len(newer) < len(notes)
        more = answer.cursor if len(notes) >= PAGE_SIZE and not reached_floor else None
        found = [
            _found(n)
            for n in newer
            if n.reason in REASONS and n.author.did != did and hasattr(n.record, "text")
        ]
        return Page(found, max(times, key=id_order), oldest, more)


def _found(note: Any) -> Found:
    record = note.record
    reply = getattr(record, "reply", None)
    root = reply.root.uri if reply is not None else note.uri
    return Found(
        external_id=item_id(note.uri),
        text=record.text or "",
        posted_at=_when(getattr(record, "created_at", None) or note.indexed_at),
        author_id=note.author.did,
        author_handle=note.author.handle,
        author_name=note.author.display_name or None,
        url=post_url(note.uri),
        conversation_id=item_id(root),
    )


def _when(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return now()
    return when if when.tzinfo else when.replace(tzinfo=UTC)
