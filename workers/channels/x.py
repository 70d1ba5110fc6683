"""X (Twitter): one thread per incident, posted with tweepy's v2 ``create_tweet``."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import requests
import tweepy
from flask import current_app

from statuspage import outbox
from statuspage.channel_messages import x_post
from statuspage.lib import http
from statuspage.listening.replies import ReplyFacts
from statuspage.messages import MessageFacts
from statuspage.models import Channel, ChannelThread, Delivery
from workers.channels.base import (
    DeliveryError,
    HttpTransport,
    SendResult,
    channel_secrets,
    load_channel,
)

TWEET_URL = "https://x.com/i/web/status/{id}"
CLOCK_SKEW = timedelta(minutes=5)  # X's clock may be behind ours: look this much earlier
READ_BACK_PAGES = 10  # of 100 posts each; more posts than that since the send: no certainty


def api_aliases() -> dict[str, str]:
    """Where tweepy's fixed API host really points (a setting, so tests can use a fake)."""
    return {"https://api.twitter.com": current_app.config["X_API_URL"]}


def client_for(keys: Mapping[str, Any], session: http.Session) -> tweepy.Client:
    """A v2 client with the account's OAuth 1.0a keys, sending through ``session`` (the
    guarded, timed HTTP session of ``statuspage.lib.http``)."""
    client = tweepy.Client(
        consumer_key=keys.get("api_key"),
        consumer_secret=keys.get("api_key_secret"),
        access_token=keys.get("access_token"),
        access_token_secret=keys.get("access_token_secret"),
        wait_on_rate_limit=False,  # a worker slot must never sleep out a rate limit
    )
    client.session.close()
    client.session = session
    return client


class X(HttpTransport):
    """X takes no idempotency key, so a post whose outcome is unknown (a read timeout, a
    cut answer, a worker killed mid-send) is never sent again blindly: the row becomes
    ``uncertain`` until the account's own posts are read back (``find_sent``)."""

    safe_to_resend = False
    threaded = True
    reads_back = True

    def _client(self, channel: Channel, session: http.Session) -> tweepy.Client:
        return client_for(channel_secrets(channel), session)

    def _session(self) -> http.Session:
        return self.session(aliases=api_aliases())

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        channel = load_channel(delivery.channel_id)
        text = x_post(facts).text
        reply_to = ChannelThread.last_post(channel.id, facts.incident_id)
        return self._post(delivery, channel, text, reply_to)

    def send_reply(self, delivery: Delivery, reply: ReplyFacts) -> SendResult:
        """A reply to the customer's post; X threads it under theirs and notifies them."""
        return self._post(
            delivery, load_channel(delivery.channel_id), reply.text, reply.in_reply_to
        )

    def _post(
        self, delivery: Delivery, channel: Channel, text: str, reply_to: str | None
    ) -> SendResult:
        with self._session() as session:
            client = self._client(channel, session)
            outbox.mark_started(delivery, {"text": text, "in_reply_to": reply_to})
            try:
                response = client.create_tweet(
                    text=text, in_reply_to_tweet_id=reply_to, user_auth=True
                )
            except Exception as exc:
                raise self._error(exc, channel) from None
        tweet_id = str((response.data or {}).get("id") or "")
        if not tweet_id:
            raise DeliveryError("X's answer names no post", unknown_outcome=True)
        return SendResult(external_id=tweet_id, external_url=TWEET_URL.format(id=tweet_id))

    def test(self, channel: Channel, recipient: str) -> str:
        """Checks the keys with ``GET /2/users/me``: a test tweet would be public noise."""
        with self._session() as session:
            try:
                me = self._client(channel, session).get_me(user_auth=True)
            except Exception as exc:
                raise self._error(exc, channel) from None
        return f"Connected as @{me.data.username}."

    def find_sent(self, delivery: Delivery) -> SendResult | None:
        """The post an uncertain send made, looked for among the account's posts since the
        send began: the same text (links expanded) answering the same post. None when X
        lists them all and it is not there; DeliveryError when they cannot be read."""
        attempt = delivery.attempt or {}
        if delivery.send_started_at is None or "text" not in attempt:
            raise DeliveryError("nothing is known of what was sent", permanent=True)
        channel = load_channel(delivery.channel_id)
        wanted = _comparable(attempt["text"])
        with self._session() as session:
            client = self._client(channel, session)
            try:
                account = client.get_me(user_auth=True).data.id
                pages = tweepy.Paginator(
                    client.get_users_tweets,
                    account,
                    start_time=delivery.send_started_at - CLOCK_SKEW,
                    max_results=100,
                    tweet_fields=["entities", "referenced_tweets"],
                    user_auth=True,
                )
                for number, page in enumerate(pages, start=1):
                    for tweet in page.data or []:
                        if _is_attempt(tweet, wanted, attempt.get("in_reply_to")):
                            return SendResult(str(tweet.id), TWEET_URL.format(id=tweet.id))
                    if number == READ_BACK_PAGES and page.meta.get("next_token"):
                        raise DeliveryError("too many posts since the send to be sure")
            except DeliveryError:
                raise
            except Exception as exc:
                raise self._error(exc, channel, "the read-back") from None
        return None

    @staticmethod
    def _error(exc: Exception, channel: Channel, what: str = "the post") -> DeliveryError:
        secrets = channel_secrets(channel).values()
        if isinstance(exc, tweepy.HTTPException):
            status = exc.response.status_code
            if http.retryable_status(status):
                return DeliveryError(
                    http.status_text("X", status), retry_at=http.reset_at(exc.response.headers)
                )
            detail = "; ".join(str(m) for m in exc.api_messages) or exc.response.reason
            return DeliveryError(
                http.redact(f"X refused {what} ({status}): {detail}", secrets),
                permanent=True,
            )
        if http.never_sent(exc):
            return DeliveryError(http.describe_failure(exc, secrets))
        if isinstance(exc, requests.RequestException):
            return DeliveryError(
                f"no answer from X to {what} ({http.describe_failure(exc, secrets)})",
                unknown_outcome=True,
            )
        raise exc


def _comparable(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _is_attempt(tweet: tweepy.Tweet, text: str, reply_to: str | None) -> bool:
    """The same text as sent (X escapes &, < and > and shortens links to t.co) answering
    the same post."""
    posted = html.unescape(tweet.text)
    for link in (tweet.entities or {}).get("urls", []):
        if link.get("url") and link.get("expanded_url"):
            posted = posted.replace(link["url"], link["expanded_url"])
    replied = [str(r.id) for r in tweet.referenced_tweets or [] if r.type == "replied_to"]
    return _comparable(posted) == text and (replied[0] if replied else None) == reply_to
