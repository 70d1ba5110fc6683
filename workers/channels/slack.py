"""Slack incoming webhooks, as Block Kit messages."""

from __future__ import annotations

from typing import Any

from statuspage.channel_messages import SLACK_SECTION_LIMIT, clip, slack_escape, slack_payload
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
)


class Slack(HttpTransport):
    """An incoming webhook has no idempotency key; a resend after an unknown outcome may
    show a message twice in a team channel, which we prefer to a missing update."""

    safe_to_resend = True

    def payload(self, facts: MessageFacts) -> dict[str, Any]:
        """The Block Kit message of an update (built where the console previews it)."""
        return slack_payload(facts)

    def _post(self, channel: Channel, payload: dict[str, Any]) -> None:
        keys = channel_secrets(channel)
        url = keys.get("webhook_url")
        if not url:
            raise DeliveryError("no webhook URL is configured", permanent=True)
        with self.session() as session:
            try:
                http.post(session, url, json=payload, secrets=keys.values()).close()
            except http.HttpError as exc:
                raise DeliveryError.from_http(exc) from None

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        self._post(load_channel(delivery.channel_id), self.payload(facts))
        return SendResult()

    def send_alert(
        self, delivery: Delivery, facts: MessageFacts | None, alert: OperatorAlert
    ) -> SendResult:
        if facts is None:
            text = render_file(
                "messages/notice.txt", text=slack_escape(alert.text), admin_url=admin_url(alert)
            ).strip()
        else:
            text = render(
                "alert",
                facts,
                text=slack_escape(alert.text),
                name=slack_escape(facts.incident_name),
                admin_url=admin_incident_url(facts.incident_id),
            )
        self._post(
            load_channel(delivery.channel_id),
            {
                "text": slack_escape(alert.text),
                "blocks": [
                    {
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": clip(text, SLACK_SECTION_LIMIT)},
                    }
                ],
            },
        )
        return SendResult()

    def test(self, channel: Channel, recipient: str) -> str:
        from statuspage.models import Page

        text = render_file("messages/test.txt", page_name=Page.get().name).strip()
        self._post(channel, {"text": text})
        return "Test message posted."
