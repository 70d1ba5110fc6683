"""Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request
is received"), as an Adaptive Card. The Office 365 connector cards that older incoming
webhooks took are retired; a Workflows trigger takes a ``message`` with card attachments.
"""

from __future__ import annotations

from typing import Any

from statuspage.lib import http
from statuspage.messages import (
    MessageFacts,
    admin_incident_url,
    admin_url,
    fit,
    render,
    render_file,
)
from statuspage.models import Channel, Delivery, IncidentStatus, OperatorAlert
from workers.channels.base import (
    DeliveryError,
    HttpTransport,
    SendResult,
    channel_secrets,
    load_channel,
)

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"  # what Teams renders on every client
TEXT_LIMIT = 20_000  # a Teams message holds about 28 KB, card markup included
COLOURS = {"none": "Default", "minor": "Warning", "major": "Attention", "critical": "Attention"}
OVER = (IncidentStatus.RESOLVED, IncidentStatus.COMPLETED, IncidentStatus.POSTMORTEM)


def card(title: str, text: str, *, url: str | None = None, colour: str = "Default") -> dict:
    """A Workflows ``message`` carrying one Adaptive Card: the title, then each line of
    ``text`` as its own wrapped block (a card block shows a single newline as a space)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": title,
            "weight": "Bolder",
            "size": "Medium",
            "color": colour,
            "wrap": True,
        }
    ]
    body += [
        {"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"}
        for line in text.splitlines()
        if line.strip()
    ]
    content: dict[str, Any] = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "View incident", "url": url}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": content,
            }
        ],
    }


class Teams(HttpTransport):
    """A workflow trigger takes no idempotency key and names no message it made (it answers
    202 and posts later), so posts cannot thread; a resend after an unknown outcome may
    show a card twice in a team channel, which we prefer to a missing update."""

    safe_to_resend = True

    def payload(self, facts: MessageFacts) -> dict[str, Any]:
        colour = "Good" if facts.status in OVER else COLOURS.get(str(facts.impact), "Default")
        return card(
            f"{facts.status_label}: {facts.incident_name}",
            fit("teams", facts, TEXT_LIMIT, len),
            url=facts.url,
            colour=colour,
        )

    def _post(self, channel: Channel, payload: dict[str, Any]) -> None:
        keys = channel_secrets(channel)
        url = keys.get("webhook_url")
        if not url:
            raise DeliveryError("no workflow webhook URL is configured", permanent=True)
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
            text = render_file("messages/notice.txt", text=alert.text, admin_url=admin_url(alert))
        else:
            text = render(
                "alert", facts, text=alert.text, admin_url=admin_incident_url(facts.incident_id)
            )
        self._post(
            load_channel(delivery.channel_id),
            card("Operator alert", text[:TEXT_LIMIT], colour="Warning"),
        )
        return SendResult()

    def test(self, channel: Channel, recipient: str) -> str:
        from statuspage.models import Page

        text = render_file("messages/test.txt", page_name=Page.get().name).strip()
        self._post(channel, card("Test", text))
        return "Test card posted."
