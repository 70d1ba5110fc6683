"""Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request
is received"), as an Adaptive Card. The Office 365 connector cards that older incoming
webhooks took are retired; a Workflows trigger takes a ``message`` with card attachments.
"""

from __future__ import annotations

from typing import Any

from statuspage.channel_messages import TEAMS_TEXT_LIMIT, teams_card, teams_payload
from statuspage.messages import (
    MessageFacts,
    admin_incident_url,
    admin_url,
    render,
    render_file,
)
from statuspage.models import Channel, Delivery, OperatorAlert
from workers.channels.base import (
    HttpTransport,
    SendResult,
    load_channel,
)


class Teams(HttpTransport):
    """A workflow trigger takes no idempotency key and names no message it made (it answers
    202 and posts later), so posts cannot thread; a resend after an unknown outcome may
    show a card twice in a team channel, which we prefer to a missing update."""

    safe_to_resend = True

    def payload(self, facts: MessageFacts) -> dict[str, Any]:
        """The card of an update (built where the console previews it)."""
        return teams_payload(facts)

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        self.post_to_webhook(load_channel(delivery.channel_id), self.payload(facts))
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
        self.post_to_webhook(
            load_channel(delivery.channel_id),
            teams_card("Operator alert", text[:TEAMS_TEXT_LIMIT], colour="Warning"),
        )
        return SendResult()

    def test(self, channel: Channel, recipient: str) -> str:
        from statuspage.models import Page

        text = render_file("messages/test.txt", page_name=Page.get().name).strip()
        self.post_to_webhook(channel, teams_card("Test", text))
        return "Test card posted."
