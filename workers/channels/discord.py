"""Discord webhooks: an embed per update, posted with ``?wait=true`` so Discord answers
with the message it made and the ledger keeps its id.

A webhook cannot reply to a message, so in an ordinary text channel each update is its
own message. In a forum channel (the channel's "Forum channel" setting) the first update
of an incident opens a post named after it (``thread_name``) and later updates go into
that post (``thread_id``): a forum post's id is its first message's id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from statuspage import outbox
from statuspage.channel_messages import NO_MENTIONS, clip, discord_payload
from statuspage.lib import http
from statuspage.messages import (
    MessageFacts,
    admin_incident_url,
    admin_url,
    render,
    render_file,
)
from statuspage.models import Channel, Delivery, OperatorAlert
from workers.channels.base import (
    DeliveryError,
    HttpTransport,
    SendResult,
    channel_secrets,
    load_channel,
    thread_root,
)

THREAD_NAME_LIMIT = 100


def with_query(url: str, **params: str) -> str:
    """The webhook URL with ``params`` added to whatever query it already has."""
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return parts._replace(query=query).geturl()


class Discord(HttpTransport):
    """A webhook takes no idempotency key and a message cannot be looked for without its
    id, so a send whose outcome is unknown is never repeated blindly: the row becomes
    ``uncertain`` for an operator to check the channel and resend (a community server's
    readers would see a repeated update, and a forum a second post)."""

    safe_to_resend = False
    threaded = True

    def payload(self, facts: MessageFacts) -> dict[str, Any]:
        """The embed of an update (built where the console previews it)."""
        return discord_payload(facts)

    def _post(
        self, delivery: Delivery | None, channel: Channel, payload: dict, **params: str
    ) -> dict[str, Any]:
        keys = channel_secrets(channel)
        url = keys.get("webhook_url")
        if not url:
            raise DeliveryError("no webhook URL is configured", permanent=True)
        with self.session() as session:
            if delivery is not None:
                outbox.mark_started(delivery, {"thread": params.get("thread_id")})
            try:
                response = http.post(
                    session,
                    with_query(url, wait="true", **params),
                    json=payload,
                    secrets=keys.values(),
                )
            except http.HttpError as exc:
                raise DeliveryError.from_http(exc) from None
            with response:
                try:
                    message = response.json()
                except ValueError:
                    message = None
        if not isinstance(message, dict) or not message.get("id"):
            raise DeliveryError("Discord's answer names no message", unknown_outcome=True)
        return message

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        channel = load_channel(delivery.channel_id)
        payload = self.payload(facts)
        params: dict[str, str] = {}
        if channel.config.get("forum") == "on":
            root = thread_root(channel.id, facts.incident_id)
            if root:
                params["thread_id"] = root
            else:
                payload["thread_name"] = clip(facts.incident_name, THREAD_NAME_LIMIT)
        message = self._post(delivery, channel, payload, **params)
        return SendResult(external_id=str(message["id"]))

    def send_alert(
        self, delivery: Delivery, facts: MessageFacts | None, alert: OperatorAlert
    ) -> SendResult:
        if facts is None:
            text = render_file("messages/notice.txt", text=alert.text, admin_url=admin_url(alert))
        else:
            text = render(
                "alert", facts, text=alert.text, admin_url=admin_incident_url(facts.incident_id)
            )
        channel = load_channel(delivery.channel_id)
        payload: dict[str, Any] = {
            "content": clip(text.strip(), 2000),
            "allowed_mentions": NO_MENTIONS,
        }
        if channel.config.get("forum") == "on":
            payload["thread_name"] = clip(f"Operator alert: {alert.text}", THREAD_NAME_LIMIT)
        message = self._post(delivery, channel, payload)
        return SendResult(external_id=str(message["id"]))

    def test(self, channel: Channel, recipient: str) -> str:
        from statuspage.models import Page

        text = render_file("messages/test.txt", page_name=Page.get().name).strip()
        payload: dict[str, Any] = {"content": text, "allowed_mentions": NO_MENTIONS}
        if channel.config.get("forum") == "on":
            payload["thread_name"] = "Test"
        self._post(None, channel, payload)
        return "Test message posted."
