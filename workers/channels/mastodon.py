"""Mastodon: one thread per incident with Mastodon.py's ``status_post``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import mastodon as mastodon_py
import requests

from statuspage.channel_messages import MASTODON_DEFAULT_LIMIT, mastodon_post
from statuspage.extensions import db
from statuspage.lib import http
from statuspage.lib.clock import now
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

LIMIT_TTL = timedelta(hours=1)


def _max_characters(instance: Any) -> int:
    try:
        return int(instance["configuration"]["statuses"]["max_characters"])
    except (KeyError, TypeError, ValueError):
        # Pleroma and Akkoma publish the limit under another name.
        return int(instance.get("max_toot_chars") or MASTODON_DEFAULT_LIMIT)


class Mastodon(HttpTransport):
    """Mastodon keeps an ``Idempotency-Key`` for an hour and answers a repeat with the
    status it already made, so a send whose outcome is unknown is simply sent again."""

    safe_to_resend = True
    threaded = True

    @contextmanager
    def _connect(self, channel: Channel) -> Iterator[mastodon_py.Mastodon]:
        """A client on a fresh guarded session; Mastodon.py's errors leave as DeliveryError."""
        with self.session() as session:
            answers: list[requests.Response] = []
            session.hooks["response"].append(lambda response, *_, **__: answers.append(response))
            client = mastodon_py.Mastodon(
                api_base_url=channel.config["base_url"],
                access_token=channel_secrets(channel).get("access_token"),
                session=session,
                ratelimit_method="throw",  # a worker slot must never sleep out a rate limit
                request_timeout=session.default_timeout[1],
                version_check_mode="none",
            )
            try:
                yield client
            except mastodon_py.MastodonError as exc:
                raise self._error(exc, answers, channel) from None

    def char_limit(self, client: mastodon_py.Mastodon, channel: Channel) -> int:
        """The instance's own limit (``GET /api/v2/instance``), read again after an hour
        and kept on the channel row, where the console's preview reads it too."""
        read_at = channel.post_limit_read_at
        if channel.post_limit and read_at and now() - read_at < LIMIT_TTL:
            return channel.post_limit
        channel.post_limit = _max_characters(client.instance())
        channel.post_limit_read_at = now()
        db.session.commit()
        return channel.post_limit

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        channel = load_channel(delivery.channel_id)
        reply_to = ChannelThread.last_post(channel.id, facts.incident_id)
        with self._connect(channel) as client:
            limit = self.char_limit(client, channel)
            status = client.status_post(
                mastodon_post(facts, limit).text,
                in_reply_to_id=reply_to,
                visibility=channel.config.get("visibility") or "public",
                language=channel.config.get("language") or None,
                idempotency_key=delivery.idempotency_key,
            )
        return SendResult(external_id=str(status["id"]), external_url=status.get("url"))

    def send_reply(self, delivery: Delivery, reply: ReplyFacts) -> SendResult:
        """A reply to the customer's status, no more visible than theirs; the text starts
        with their handle, since Mastodon notifies only mentioned accounts."""
        channel = load_channel(delivery.channel_id)
        with self._connect(channel) as client:
            status = client.status_post(
                reply.text,
                in_reply_to_id=reply.in_reply_to,
                visibility=reply.visibility or "public",
                language=channel.config.get("language") or None,
                idempotency_key=delivery.idempotency_key,
            )
        return SendResult(external_id=str(status["id"]), external_url=status.get("url"))

    def test(self, channel: Channel, recipient: str) -> str:
        """Checks the token with ``verify_credentials``: a test toot would be public noise."""
        with self._connect(channel) as client:
            account = client.account_verify_credentials()
            limit = self.char_limit(client, channel)
        return f"Connected as @{account['acct']}; posts up to {limit} characters."

    @staticmethod
    def _error(
        exc: mastodon_py.MastodonError, answers: list[requests.Response], channel: Channel
    ) -> DeliveryError:
        """Mastodon.py keeps an error's status but not its headers; ``answers`` holds the
        responses it received, the last one being the answer to the failed request."""
        secrets = channel_secrets(channel).values()
        headers = answers[-1].headers if answers else {}
        if isinstance(exc, mastodon_py.MastodonNetworkError):
            cause = exc.__context__  # Mastodon.py wraps the requests error without "from"
            if not isinstance(cause, requests.RequestException):
                text = http.redact(str(exc), secrets)[:300]
            elif http.never_sent(cause):
                text = http.describe_failure(cause, secrets)
                return DeliveryError(
                    "Mastodon unreachable: " + text, permanent=text.startswith("refused: ")
                )
            else:
                text = http.describe_failure(cause, secrets)
            return DeliveryError(
                f"no answer from Mastodon after sending ({text})", unknown_outcome=True
            )
        if isinstance(exc, mastodon_py.MastodonRatelimitError):
            return DeliveryError(http.status_text("Mastodon", 429), retry_at=http.reset_at(headers))
        if isinstance(exc, mastodon_py.MastodonAPIError) and len(exc.args) >= 4:
            status = int(exc.args[1])
            if http.retryable_status(status):
                return DeliveryError(
                    http.status_text("Mastodon", status), retry_at=http.reset_at(headers)
                )
            return DeliveryError(
                http.redact(f"Mastodon refused the post ({status}): {exc.args[3]}", secrets),
                permanent=True,
            )
        if isinstance(exc, mastodon_py.MastodonIllegalArgumentError):
            return DeliveryError(http.redact(f"Mastodon: {exc}", secrets)[:300], permanent=True)
        # A 2xx whose body could not be read: the post may exist, and the same key finds it.
        return DeliveryError(
            http.redact(f"Mastodon's answer could not be read: {exc.args[0]}", secrets)[:300],
            unknown_outcome=True,
        )
