"""Telegram: a bot posts to a channel or group through the Bot API (``sendMessage``);
each update of an incident replies to the incident's first message there, so a reader
taps from any update to the start of the story."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import current_app

from statuspage import outbox
from statuspage.channel_messages import telegram_post
from statuspage.lib import http
from statuspage.lib.clock import now
from statuspage.messages import MessageFacts
from statuspage.models import Channel, Delivery
from workers.channels.base import (
    DeliveryError,
    HttpTransport,
    SendResult,
    channel_secrets,
    load_channel,
    thread_root,
)

API_ORIGIN = "https://api.telegram.org"


def post_url(chat: dict[str, Any], message_id: int) -> str | None:
    """A public chat's message has a t.me link; a private one has none we can give."""
    username = chat.get("username")
    return f"https://t.me/{username}/{message_id}" if username else None


class Telegram(HttpTransport):
    """The Bot API takes no idempotency key and a bot cannot read a channel's history, so
    a send whose outcome is unknown is never repeated blindly: the row becomes
    ``uncertain`` and holds the thread until an operator checks the chat and resends."""

    safe_to_resend = False
    threaded = True

    def _call(self, channel: Channel, method: str, payload: dict[str, Any]) -> Any:
        """One Bot API method; its ``result``, or DeliveryError as its answer says."""
        token = channel_secrets(channel).get("bot_token")
        if not token:
            raise DeliveryError("no bot token is configured", permanent=True)
        aliases = {API_ORIGIN: current_app.config["TELEGRAM_API_URL"]}
        with self.session(aliases=aliases) as session:
            try:
                response = http.post(
                    session, f"{API_ORIGIN}/bot{token}/{method}", json=payload, secrets=(token,)
                )
            except http.HttpError as exc:
                raise self._error(exc, token) from None
            with response:
                try:
                    answer = response.json()
                except ValueError:
                    answer = None
        if not isinstance(answer, dict) or not answer.get("ok") or "result" not in answer:
            raise DeliveryError("Telegram's answer could not be read", unknown_outcome=True)
        return answer["result"]

    @staticmethod
    def _error(exc: http.HttpError, token: str) -> DeliveryError:
        """Telegram names its wait in the body (``parameters.retry_after``, seconds), not
        in a header; either is honoured, the later one winning."""
        try:
            answer = json.loads(exc.answer) if exc.answer else {}
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        description = http.redact(str(answer.get("description") or ""), (token,))[:300]
        retry_at = exc.retry_at
        wait = (answer.get("parameters") or {}).get("retry_after")
        if isinstance(wait, int | float) and 0 <= wait <= http.MAX_RETRY_AFTER.total_seconds():
            named = now() + timedelta(seconds=wait)
            retry_at = max(retry_at or named, named)
        return DeliveryError(
            f"Telegram answered {exc.status}: {description}" if description else exc.message,
            permanent=exc.permanent,
            retry_at=retry_at,
            unknown_outcome=exc.unknown_outcome,
        )

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        channel = load_channel(delivery.channel_id)
        payload: dict[str, Any] = {
            "chat_id": channel.config["chat_id"],
            "text": telegram_post(facts).text,
            "link_preview_options": {"is_disabled": True},
        }
        root = thread_root(channel.id, facts.incident_id)
        if root:
            # Still posted if the first message was deleted from the chat.
            payload["reply_parameters"] = {
                "message_id": int(root),
                "allow_sending_without_reply": True,
            }
        outbox.mark_started(delivery, {"reply_to": root})
        message = self._call(channel, "sendMessage", payload)
        if not isinstance(message, dict) or "message_id" not in message:
            raise DeliveryError("Telegram's answer names no message", unknown_outcome=True)
        return SendResult(
            external_id=str(message["message_id"]),
            external_url=post_url(message.get("chat") or {}, message["message_id"]),
        )

    def test(self, channel: Channel, recipient: str) -> str:
        """Checks the token and that the bot sees the chat: a test post would be noise in a
        public channel."""
        bot = self._call(channel, "getMe", {})
        chat = self._call(channel, "getChat", {"chat_id": channel.config["chat_id"]})
        where = chat.get("title") or chat.get("username") or chat.get("id")
        return f"Connected as @{bot.get('username')} to “{where}”."
