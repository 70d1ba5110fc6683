"""X (Twitter): one thread per incident, posted with tweepy's v2 ``create_tweet``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
import tweepy
from flask import current_app

from statuspage.lib import http
from statuspage.listening.replies import ReplyFacts
from statuspage.messages import X_LIMIT, MessageFacts, fit, x_length
from statuspage.models import Channel, ChannelThread, Delivery
from workers.channels.base import (
    DeliveryError,
    HttpTransport,
    SendResult,
    channel_secrets,
    load_channel,
)

TWEET_URL = "https://x.com/i/web/status/{id}"


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
    worker killed mid-send) is never sent again blindly: the row becomes ``uncertain``
    for an operator to check and resend."""

    safe_to_resend = False
    threaded = True

    def _client(self, channel: Channel, session: http.Session) -> tweepy.Client:
        return client_for(channel_secrets(channel), session)

    def _session(self) -> http.Session:
        return self.session(aliases=api_aliases())

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        channel = load_channel(delivery.channel_id)
        text = fit("x", facts, X_LIMIT, x_length)
        return self._post(channel, text, ChannelThread.last_post(channel.id, facts.incident_id))

    def send_reply(self, delivery: Delivery, reply: ReplyFacts) -> SendResult:
        """A reply to the customer's post; X threads it under theirs and notifies them."""
        return self._post(load_channel(delivery.channel_id), reply.text, reply.in_reply_to)

    def _post(self, channel: Channel, text: str, reply_to: str | None) -> SendResult:
        with self._session() as session:
            client = self._client(channel, session)
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

    @staticmethod
    def _error(exc: Exception, channel: Channel) -> DeliveryError:
        secrets = channel_secrets(channel).values()
        if isinstance(exc, tweepy.HTTPException):
            status = exc.response.status_code
            if http.retryable_status(status):
                return DeliveryError(
                    http.status_text("X", status), retry_at=http.reset_at(exc.response.headers)
                )
            detail = "; ".join(str(m) for m in exc.api_messages) or exc.response.reason
            return DeliveryError(
                http.redact(f"X refused the post ({status}): {detail}", secrets),
                permanent=True,
            )
        if http.never_sent(exc):
            return DeliveryError(http.describe_failure(exc, secrets))
        if isinstance(exc, requests.RequestException):
            return DeliveryError(
                "no answer from X after sending (" + http.describe_failure(exc, secrets) + ")",
                unknown_outcome=True,
            )
        raise exc
