"""Mastodon: notifications of type mention (``GET /api/v1/notifications``) and the
channel's listening hashtags (``GET /api/v1/timelines/tag/:tag``), through Mastodon.py.

Pages go newest first: ``max_id`` walks down from the newest while ``since_id`` bounds the
walk below, as Mastodon's own ``Link: rel="next"`` would (its links drop ``since_id``, so
the walk passes both itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import mastodon as mastodon_py

from statuspage.lib import http
from statuspage.lib.clock import now
from statuspage.lib.crypto import SecretError
from statuspage.listening import sources
from statuspage.listening.inbox import Found
from statuspage.listening.text import from_html
from statuspage.models import Channel, ListeningSource
from workers.listening.base import Page, Poller, PollError, id_order

PAGE_SIZE = 40  # Mastodon's maximum for both endpoints
DEFAULT_WINDOW = timedelta(minutes=5)  # Mastodon's rate limit window, when no reset is given


class MastodonPoller(Poller):
    secrets: list[str] = []

    @contextmanager
    def connect(self, channel: Channel) -> Iterator[mastodon_py.Mastodon]:
        try:
            token = channel.secrets.get("access_token")
        except SecretError as exc:
            raise PollError(str(exc)) from None
        self.secrets = [token] if token else []
        with http.session() as session:
            yield mastodon_py.Mastodon(
                api_base_url=channel.config["base_url"],
                access_token=token,
                session=session,
                ratelimit_method="throw",  # a worker slot must never sleep out a rate limit
                request_timeout=session.default_timeout[1],
                version_check_mode="none",
            )

    def fetch(
        self,
        client: mastodon_py.Mastodon,
        channel: Channel,
        source: ListeningSource,
        *,
        since_id: str | None,
        until_id: str | None,
        token: str | None,
    ) -> Page:
        bounds = {"since_id": since_id, "max_id": token or until_id, "limit": PAGE_SIZE}
        try:
            me = self._account(client, source)
            if source.name == "mentions":
                notes = client.notifications(types=["mention"], **bounds)
                ids = [str(n["id"]) for n in notes]
                statuses = [n["status"] for n in notes if n.get("status")]
            else:
                statuses = client.timeline_hashtag(source.name.removeprefix("tag:"), **bounds)
                ids = [str(s["id"]) for s in statuses]
        except mastodon_py.MastodonError as exc:
            raise self._error(exc, client) from None
        if not ids:
            return Page([], None, None, None)
        oldest = min(ids, key=id_order)
        more = oldest if len(ids) >= PAGE_SIZE else None
        theirs = [s for s in statuses if str((s.get("account") or {}).get("id")) != me]
        return Page([_found(s) for s in theirs], max(ids, key=id_order), oldest, more)

    @staticmethod
    def _account(client: mastodon_py.Mastodon, source: ListeningSource) -> str:
        """Our own account's id (its posts carry our hashtags too), kept with the source."""
        if source.account_id:
            return source.account_id
        source.account_id = str(client.account_verify_credentials()["id"])
        sources.remember_account(source.id, source.account_id)
        return source.account_id

    def _error(self, exc: mastodon_py.MastodonError, client: mastodon_py.Mastodon) -> PollError:
        if isinstance(exc, mastodon_py.MastodonRatelimitError):
            reset = client.ratelimit_reset
            retry_at = http.epoch_to_datetime(reset) if reset else now() + DEFAULT_WINDOW
            return PollError("Mastodon rate limit reached (429)", retry_at=retry_at)
        if isinstance(exc, mastodon_py.MastodonServerError):
            return PollError(f"Mastodon server error {exc.args[1]}")
        if isinstance(exc, mastodon_py.MastodonNetworkError):
            text = "timed out" if "timed out" in str(exc).lower() else str(exc)
            return PollError("Mastodon unreachable: " + http.redact(text, self.secrets)[:300])
        if isinstance(exc, mastodon_py.MastodonAPIError) and len(exc.args) >= 4:
            return PollError(
                http.redact(f"Mastodon refused ({exc.args[1]}): {exc.args[3]}", self.secrets)
            )
        return PollError(http.redact(f"Mastodon: {exc}", self.secrets)[:300])


def _found(status: Any) -> Found:
    account = status.get("account") or {}
    return Found(
        external_id=str(status["id"]),
        text=from_html(status.get("content") or ""),
        posted_at=_when(status.get("created_at")),
        author_id=str(account["id"]) if account.get("id") else None,
        author_handle=account.get("acct"),
        author_name=account.get("display_name") or None,
        url=status.get("url") or status.get("uri"),
        conversation_id=str(status.get("in_reply_to_id") or status["id"]),
        visibility=status.get("visibility"),
    )


def _when(value: Any) -> datetime:
    """Mastodon.py parses timestamps; a server sending none or odd ones gets "now"."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return now()
    if not isinstance(value, datetime):
        return now()
    return value if value.tzinfo else value.replace(tzinfo=UTC)
