"""X: mentions of the connected account (``GET /2/users/:id/mentions``) and the channel's
listening search (``GET /2/tweets/search/recent``), through tweepy's v2 client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import requests
import tweepy

from statuspage.lib import http
from statuspage.lib.clock import now
from statuspage.lib.crypto import SecretError
from statuspage.listening import sources
from statuspage.listening.inbox import Found
from statuspage.listening.text import from_x
from statuspage.models import Channel, ListeningSource
from workers.channels.x import api_aliases, client_for
from workers.listening.base import Page, Poller, PollError

PAGE_SIZE = 100  # the most either endpoint returns per request
DEFAULT_WINDOW = timedelta(minutes=15)  # X's rate limit window, when no reset is given
TWEET_URL = "https://x.com/{username}/status/{id}"
FIELDS = {
    "tweet_fields": ["created_at", "conversation_id", "author_id"],
    "expansions": ["author_id"],
    "user_fields": ["username", "name"],
}


class XPoller(Poller):
    secrets: list[str] = []

    @contextmanager
    def connect(self, channel: Channel) -> Iterator[tweepy.Client]:
        try:
            keys = channel.secrets
        except SecretError as exc:
            raise PollError(str(exc)) from None
        with http.session(aliases=api_aliases()) as session:
            self.secrets = [str(v) for v in keys.values()]
            yield client_for(keys, session)

    def fetch(
        self,
        client: tweepy.Client,
        channel: Channel,
        source: ListeningSource,
        *,
        since_id: str | None,
        until_id: str | None,
        token: str | None,
    ) -> Page:
        bounds: dict[str, Any] = {"since_id": since_id, "until_id": until_id, **FIELDS}
        try:
            me = self._account(client, source)
            if source.name == "mentions":
                response = client.get_users_mentions(
                    me,
                    max_results=PAGE_SIZE,
                    pagination_token=token,
                    user_auth=True,
                    **bounds,
                )
            else:
                response = client.search_recent_tweets(
                    channel.config["search_query"],
                    max_results=PAGE_SIZE,
                    next_token=token,
                    user_auth=True,
                    **bounds,
                )
        except Exception as exc:
            raise _error(exc, self.secrets) from None
        users = {u.id: u for u in (response.includes or {}).get("users", [])}
        found = []
        for tweet in response.data or []:
            if str(tweet.author_id) == me:
                continue  # our own posts (updates, replies) match searches too
            user = users.get(tweet.author_id)
            username = user.username if user else None
            found.append(
                Found(
                    external_id=str(tweet.id),
                    text=from_x(tweet.text),
                    posted_at=tweet.created_at or now(),
                    author_id=str(tweet.author_id) if tweet.author_id else None,
                    author_handle=username,
                    author_name=user.name if user else None,
                    url=TWEET_URL.format(username=username or "i/web", id=tweet.id),
                    conversation_id=str(tweet.conversation_id) if tweet.conversation_id else None,
                )
            )
        meta = response.meta or {}
        return Page(found, meta.get("newest_id"), meta.get("oldest_id"), meta.get("next_token"))

    @staticmethod
    def _account(client: tweepy.Client, source: ListeningSource) -> str:
        """The connected account's user id, looked up once and kept with the source."""
        if source.account_id:
            return source.account_id
        me = client.get_me(user_auth=True)
        source.account_id = str(me.data.id)
        sources.remember_account(source.id, source.account_id)
        return source.account_id


def _error(exc: Exception, secrets: list[str]) -> PollError:
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.reset_time
        retry_at = http.epoch_to_datetime(reset) if reset else now() + DEFAULT_WINDOW
        return PollError("X rate limit reached (429)", retry_at=retry_at)
    if isinstance(exc, tweepy.TwitterServerError):
        return PollError(f"X server error {exc.response.status_code}")
    if isinstance(exc, tweepy.HTTPException):
        detail = "; ".join(str(m) for m in exc.api_messages) or exc.response.reason
        message = http.redact(f"X refused ({exc.response.status_code}): {detail}", secrets)
        # Recent search refuses a since_id older than its seven days: start afresh.
        stale = isinstance(exc, tweepy.BadRequest) and "since_id" in detail
        return PollError(message, stale_cursor=stale)
    if isinstance(exc, requests.RequestException):
        return PollError("X unreachable: " + http.describe_failure(exc, secrets))
    raise exc
