"""Mastodon: one thread per incident with Mastodon.py's ``status_post``."""

from __future__ import annotations

import time
from typing import Any

import mastodon as mastodon_py

from statuspage.lib import http
from statuspage.listening.replies import ReplyFacts
from statuspage.messages import MessageFacts, fit, mastodon_length
from statuspage.models import Channel, ChannelThread, Delivery
from workers.channels.base import (
    DeliveryError,
    HttpTransport,
    SendResult,
    channel_secrets,
    load_channel,
)

DEFAULT_LIMIT = 500
LIMIT_TTL = 3600.0
_limits: dict[str, tuple[int, float]] = {}  # instance URL -> (max characters, fetched at)


def _max_characters(instance: Any) -> int:
    try:
        return int(instance["configuration"]["statuses"]["max_characters"])
    except (KeyError, TypeError, ValueError):
        # Pleroma and Akkoma publish the limit under another name.
        return int(instance.get("max_toot_chars") or DEFAULT_LIMIT)


class Mastodon(HttpTransport):
    """Mastodon keeps an ``Idempotency-Key`` for an hour and answers a repeat with the
    status it already made, so a send whose outcome is unknown is simply sent again."""

    safe_to_resend = True
    threaded = True

    def _client(self, channel: Channel, session: http.Session) -> mastodon_py.Mastodon:
        return mastodon_py.Mastodon(
            api_base_url=channel.config["base_url"],
            access_token=channel_secrets(channel).get("access_token"),
            session=session,
            ratelimit_method="throw",  # a worker slot must never sleep out a rate limit
            request_timeout=session.default_timeout[1],
            version_check_mode="none",
        )

    def char_limit(self, client: mastodon_py.Mastodon, base_url: str) -> int:
        """The instance's own limit (``GET /api/v2/instance``), cached for an hour."""
        cached = _limits.get(base_url)
        if cached and time.monotonic() - cached[1] < LIMIT_TTL:
            return cached[0]
        limit = _max_characters(client.instance())
        _limits[base_url] = (limit, time.monotonic())
        return limit

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        channel = load_channel(delivery.channel_id)
        reply_to = ChannelThread.last_post(channel.id, facts.incident_id)
        with self.session() as session:
            client = self._client(channel, session)
            try:
                limit = self.char_limit(client, channel.config["base_url"])
                status = client.status_post(
                    fit("mastodon", facts, limit, mastodon_length),
                    in_reply_to_id=reply_to,
                    visibility=channel.config.get("visibility") or "public",
                    language=channel.config.get("language") or None,
                    idempotency_key=delivery.idempotency_key,
                )
            except mastodon_py.MastodonError as exc:
                raise self._error(exc, client, channel) from None
        return SendResult(external_id=str(status["id"]), external_url=status.get("url"))

    def send_reply(self, delivery: Delivery, reply: ReplyFacts) -> SendResult:
        """A reply to the customer's status, no more visible than theirs; the text starts
        with their handle, since Mastodon notifies only mentioned accounts."""
        channel = load_channel(delivery.channel_id)
        with self.session() as session:
            client = self._client(channel, session)
            try:
                status = client.status_post(
                    reply.text,
                    in_reply_to_id=reply.in_reply_to,
                    visibility=reply.visibility or "public",
                    language=channel.config.get("language") or None,
                    idempotency_key=delivery.idempotency_key,
                )
            except mastodon_py.MastodonError as exc:
                raise self._error(exc, client, channel) from None
        return SendResult(external_id=str(status["id"]), external_url=status.get("url"))

    def test(self, channel: Channel, recipient: str) -> str:
        """Checks the token with ``verify_credentials``: a test toot would be public noise."""
        with self.session() as session:
            client = self._client(channel, session)
            try:
                account = client.account_verify_credentials()
                limit = self.char_limit(client, channel.config["base_url"])
            except mastodon_py.MastodonError as exc:
                raise self._error(exc, client, channel) from None
        return f"Connected as @{account['acct']}; posts up to {limit} characters."

    @staticmethod
    def _error(
        exc: mastodon_py.MastodonError, client: mastodon_py.Mastodon, channel: Channel
    ) -> DeliveryError:
        secrets = channel_secrets(channel).values()
        if isinstance(exc, mastodon_py.MastodonRatelimitError):
            reset = client.ratelimit_reset
            retry_at = http.epoch_to_datetime(reset) if reset else None
            return DeliveryError("Mastodon rate limit reached (429)", retry_at=retry_at)
        if isinstance(exc, mastodon_py.MastodonServerError):
            return DeliveryError(f"Mastodon server error {exc.args[1]}")
        if isinstance(exc, mastodon_py.MastodonNetworkError):
            text = "timed out" if "timed out" in str(exc).lower() else str(exc)
            return DeliveryError("Mastodon unreachable: " + http.redact(text, secrets)[:300])
        if isinstance(exc, mastodon_py.MastodonAPIError) and len(exc.args) >= 4:
            return DeliveryError(
                http.redact(f"Mastodon refused the post ({exc.args[1]}): {exc.args[3]}", secrets),
                permanent=True,
            )
        return DeliveryError(http.redact(f"Mastodon: {exc}", secrets)[:300], permanent=True)
